"""The downtime pack as one self-contained HTML file: visible header, sealed data, and the
script that opens it. Also the Content Security Policy the file carries (and is served with)."""

import base64
import hashlib
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import timezone
from markupsafe import Markup

from steadfast.continuity.crypto import seal
from steadfast.continuity.queries import PackContents
from steadfast.jinja import uk_date

ASSETS = Path(__file__).resolve().parent / "pack"


@cache
def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def _sha256_source(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


@cache
def pack_policy() -> dict[str, list[str]]:
    """Only the pack's own script and style run; nothing may be fetched, framed or submitted."""
    return {
        "default-src": ["'none'"],
        "script-src": [_sha256_source(_asset("pack.js"))],
        "style-src": [_sha256_source(_asset("pack.css"))],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
    }


def policy_text(policy: dict[str, list[str]]) -> str:
    return "; ".join(f"{name} {' '.join(values)}" for name, values in policy.items())


def made_label(made_at: datetime) -> str:
    """`Made 30 Nov 2026 at 07:45 — anything after this is not here` (London time)."""
    local = timezone.localtime(made_at)
    return f"Made {uk_date(local)} at {local:%H:%M} — anything after this is not here"


def pack_name(ods_code: str, made_at: datetime) -> str:
    """The file's name and the pack's id: practice and UTC time, so names sort by age."""
    return f"steadfast-downtime-{ods_code}-{made_at.astimezone(UTC):%Y%m%dT%H%M%SZ}.html"


def _script_json(value: dict) -> str:
    """JSON safe inside a <script> element: no `<` can close it early."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("<", "\\u003c")


def render_pack(contents: PackContents, passphrase: str, name: str) -> str:
    plaintext = json.dumps(contents.payload(), ensure_ascii=False, separators=(",", ":"))
    header = {
        "pack": name,
        "practice": contents.practice.name,
        "ods": contents.practice.ods_code,
        "made_at": contents.made_at.isoformat(),
    }
    header_json = _script_json(header)
    # The page hands back exactly these bytes as the associated data (see crypto.py).
    sealed = seal(plaintext.encode("utf-8"), passphrase, header_json.encode("ascii"))
    return render_to_string(
        "continuity/pack.jinja",
        {
            "policy": policy_text(pack_policy()),
            "practice_name": contents.practice.name,
            "ods_code": contents.practice.ods_code,
            "made_label": made_label(contents.made_at),
            "header_json": Markup(header_json),  # made safe by _script_json
            "seal_json": Markup(_script_json(sealed.fields())),
            "ciphertext": sealed.ciphertext_base64(),
            "style": Markup(_asset("pack.css")),
            "script": Markup(_asset("pack.js")),
        },
    )
