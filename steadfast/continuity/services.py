"""Downtime packs: setting the passphrase, building a pack, and keeping the latest few on disk.

Every pack built, downloaded or opened from a browser's offline copy goes on the audit trail.
"""

import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from steadfast.accounts.access import require
from steadfast.audit.services import record
from steadfast.continuity.models import DowntimePassphrase
from steadfast.continuity.queries import PackContents, downtime_passphrase, pack_contents
from steadfast.continuity.rendering import pack_name, render_pack
from steadfast.practices.models import Practice

logger = logging.getLogger(__name__)
MIN_PASSPHRASE_LENGTH = 12
PACK_NAME = re.compile(r"^steadfast-downtime-(?P<ods>[A-Z]\d{5})-\d{8}T\d{6}Z\.html$")


class PassphraseProblem(Exception):
    """No passphrase, or not the one the practice manager set: no pack is made."""


@dataclass
class BuiltPack:
    name: str
    html: bytes
    contents: PackContents
    seconds: float

    @property
    def patients(self) -> int:
        return len(self.contents.register)

    @property
    def booked(self) -> int:
        return self.contents.booked


def set_downtime_passphrase(practice: Practice, passphrase: str, actor) -> DowntimePassphrase:
    """Keep only a verifier (Django's password hasher): the passphrase itself is never stored."""
    require(actor, "set_downtime_passphrase", practice_id=practice.pk)
    return _keep_passphrase(practice, passphrase, actor)


def set_demo_downtime_passphrase(practice: Practice, passphrase: str) -> DowntimePassphrase:
    """The demo loader's passphrase for the demo practice, set by the system (no person)."""
    if not practice.is_demo:
        raise ValueError("Only the demo practice gets a passphrase without a practice manager.")
    return _keep_passphrase(practice, passphrase, None)


def _keep_passphrase(practice: Practice, passphrase: str, actor) -> DowntimePassphrase:
    with transaction.atomic():
        stored, _ = DowntimePassphrase.objects.update_or_create(
            practice=practice,
            defaults={
                "verifier": make_password(passphrase),
                "set_by": actor,
                "set_at": timezone.now(),
            },
        )
        record("set_downtime_passphrase", user=actor, practice_id=practice.pk)
    return stored


def given_passphrase(passphrase_file: str | Path | None = None) -> str | None:
    """The passphrase handed to the command or worker: `--passphrase-file`, else
    $STEADFAST_PACK_PASSPHRASE, else the file settings.PACK_PASSPHRASE_FILE names."""
    if not passphrase_file and (from_environment := os.environ.get("STEADFAST_PACK_PASSPHRASE")):
        return from_environment
    path = passphrase_file or settings.PACK_PASSPHRASE_FILE
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n") or None
    except OSError as exc:
        raise PassphraseProblem(f"Cannot read the passphrase file {path}: {exc.strerror}") from exc


def check_downtime_passphrase(practice: Practice, passphrase: str | None) -> None:
    """Raise PassphraseProblem unless `passphrase` is the practice's downtime passphrase."""
    stored = downtime_passphrase(practice)
    if stored is None:
        raise PassphraseProblem(
            f"Practice {practice.ods_code} has no downtime passphrase yet: the practice manager "
            "sets one on the Downtime passphrase page."
        )
    if not passphrase:
        raise PassphraseProblem(
            "No passphrase given: set STEADFAST_PACK_PASSPHRASE or give --passphrase-file."
        )
    if not check_password(passphrase, stored.verifier):
        raise PassphraseProblem(
            f"That is not practice {practice.ods_code}'s downtime passphrase (the one last set on "
            f"the Downtime passphrase page, on {timezone.localtime(stored.set_at):%d %b %Y})."
        )


def build_pack(
    practice: Practice,
    passphrase: str,
    *,
    days: int = 2,
    now: datetime | None = None,
    actor=None,
    source: str = "command",
) -> BuiltPack:
    """Check the passphrase, read the practice's lists, summaries and register, and seal them.

    Recorded on the audit trail as one `build_downtime_pack` entry (ids and counts only).
    """
    started = time.monotonic()
    check_downtime_passphrase(practice, passphrase)
    now = now or timezone.now()
    name = pack_name(practice.ods_code, now)
    with scope(practice=[practice.pk]):
        contents = pack_contents(practice, timezone.localdate(now), days, now)
    html = render_pack(contents, passphrase, name).encode("utf-8")
    record(
        "build_downtime_pack",
        user=actor,
        username="" if actor else source,
        practice_id=practice.pk,
        detail=f"{name} patients={len(contents.register)} booked={contents.booked}",
    )
    return BuiltPack(name=name, html=html, contents=contents, seconds=time.monotonic() - started)


def write_pack_pdf(built: BuiltPack, path: Path, *, source: str = "command") -> None:
    """The paper copy of a built pack (not encrypted: for printing there and then)."""
    from steadfast.continuity.pdf import render_pdf  # WeasyPrint loads Pango: only when asked

    write_atomically(path, render_pdf(built.contents), mode=0o600)
    record(
        "write_downtime_pack_pdf",
        username=source,
        practice_id=built.contents.practice.pk,
        detail=f"{built.name} as PDF",
    )


def write_atomically(path: Path, data: bytes, mode: int = 0o640) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it into place:
    a reader sees the old file or the whole new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


# --- The pack folder ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredPack:
    path: Path
    made_at: datetime
    size: int

    @property
    def name(self) -> str:
        return self.path.name

    def age(self, now: datetime | None = None) -> timedelta:
        return (now or timezone.now()) - self.made_at


def pack_folder() -> Path:
    return Path(settings.PACK_DIR)


def stored_packs(practice: Practice, folder: Path | None = None) -> list[StoredPack]:
    """The practice's packs in the folder, newest first (names sort by the time they were made)."""
    folder = folder or pack_folder()
    found = []
    for path in sorted(folder.glob(f"steadfast-downtime-{practice.ods_code}-*.html"), reverse=True):
        stamp = path.stem.rsplit("-", 1)[-1]
        try:
            made_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            size = path.stat().st_size
        except (ValueError, FileNotFoundError):
            continue  # not one of ours, or pruned meanwhile
        found.append(StoredPack(path=path, made_at=made_at, size=size))
    return found


def latest_pack(practice: Practice, folder: Path | None = None) -> StoredPack | None:
    packs = stored_packs(practice, folder)
    return packs[0] if packs else None


def store_pack(
    practice: Practice,
    passphrase: str,
    *,
    folder: Path | None = None,
    keep: int | None = None,
    days: int | None = None,
    now: datetime | None = None,
) -> StoredPack:
    """Build a pack into the folder and delete all but the newest `keep` of the practice's."""
    folder = folder or pack_folder()
    keep = keep or settings.PACK_KEEP
    built = build_pack(
        practice, passphrase, days=days or settings.PACK_DAYS, now=now, source="worker"
    )
    path = folder / built.name
    write_atomically(path, built.html)
    for old in stored_packs(practice, folder)[keep:]:
        old.path.unlink(missing_ok=True)
    logger.info(
        "downtime pack %s built in %.1f s (%d patients)", built.name, built.seconds, built.patients
    )
    return stored_packs(practice, folder)[0]


def record_download(user, pack: StoredPack, *, offline_copy: bool) -> None:
    what = "kept offline in the browser" if offline_copy else "downloaded"
    record(
        "download_downtime_pack",
        user=user,
        practice_id=user.practice_id,
        detail=f"{pack.name} {what}",
    )


def record_opens(user, opens: list[tuple[str, datetime]]) -> None:
    """Openings of the browser's offline copy, queued in the page while the server was away."""
    with transaction.atomic():
        for name, opened_at in opens:
            record(
                "open_downtime_pack",
                user=user,
                practice_id=user.practice_id,
                detail=f"{name} opened offline at {opened_at:%Y-%m-%dT%H:%M:%SZ}",
            )
