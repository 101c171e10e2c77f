"""Hashing and verifying the audit chain.

The HMAC key is AUDIT_KEY (or, failing that, one derived from SECRET_KEY): someone who can write
to the database but does not hold the key cannot forge an entry that verifies.
"""

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings

GENESIS = "0" * 64
SEPARATOR = "\x1f"
CONTENT_FIELDS = (
    "at",
    "user_id",
    "username",
    "role",
    "practice_id",
    "patient_id",
    "action",
    "detail",
    "source",
    "outcome",
    "prev_hash",
)
# The same canonical text, built by PostgreSQL, so audit-verify reads one string a row instead
# of converting eleven typed columns in Python. Tests check the two agree.
CANONICAL_SQL = " || chr(31) || ".join(
    [
        "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')",
        *(f"coalesce({f}::text, '')" for f in CONTENT_FIELDS[1:]),
    ]
)


def _key() -> bytes:
    return (
        getattr(settings, "AUDIT_KEY", "").encode()
        or hashlib.sha256(b"steadfast-audit:" + settings.SECRET_KEY.encode()).digest()
    )


def canonical(
    at, user_id, username, role, practice_id, patient_id, action, detail, source, outcome, prev_hash
) -> str:
    values = (
        user_id,
        username,
        role,
        practice_id,
        patient_id,
        action,
        detail,
        source,
        outcome,
        prev_hash,
    )
    return SEPARATOR.join(
        [at.astimezone(UTC).isoformat(timespec="microseconds")]
        + ["" if v is None else str(v) for v in values]
    )


def sign(text: str, key: bytes | None = None) -> str:
    return hmac.new(key or _key(), text.encode(), hashlib.sha256).hexdigest()


def entry_hash(*content, key: bytes | None = None) -> str:
    """The HMAC of an entry's content (CONTENT_FIELDS, in order)."""
    return sign(canonical(*content), key)


def head_signature(last_event_id: int, last_hash: str, key: bytes | None = None) -> str:
    return hmac.new(key or _key(), f"{last_event_id}:{last_hash}".encode(), "sha256").hexdigest()


@dataclass
class Verdict:
    checked: int
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify(rows: Iterable[tuple[int, str, str, str]], head: tuple[int, str, str] | None) -> Verdict:
    """Walk (id, canonical text, prev_hash, hash) rows in id order and name the first break.

    An entry whose content no longer matches its hash was altered if the chain does not carry
    on past it, and inserted if the next entry links to the one before it. A valid entry that
    does not link to its predecessor means entries were deleted before it.
    """
    key = _key()
    expected_prev, last_id, checked = GENESIS, 0, 0
    suspect = None  # (id, hash expected before it): an entry whose own hash failed
    for id_, text, prev_hash, stored in rows:
        if suspect is not None:
            return Verdict(checked, _suspect_verdict(suspect, links_past=prev_hash == suspect[1]))
        checked += 1
        valid = hmac.new(key, text.encode(), hashlib.sha256).hexdigest() == stored
        if valid and prev_hash == expected_prev:
            expected_prev, last_id = stored, id_
            continue
        if valid:
            return Verdict(checked, f"entries were deleted before entry {id_}")
        if head is not None and id_ > head[0]:
            return Verdict(checked, f"entry {id_} was inserted after the last recorded entry")
        suspect = (id_, expected_prev)
    if head is not None and head[2] != head_signature(head[0], head[1], key):
        return Verdict(checked, "the chain head was altered")
    if suspect is not None:
        links_past = head is not None and head[1] == suspect[1]
        return Verdict(checked, _suspect_verdict(suspect, links_past))
    if head is not None and head[1] != expected_prev:
        return Verdict(
            checked, f"entries were deleted after entry {last_id} (the last recorded was {head[0]})"
        )
    return Verdict(checked)


def _suspect_verdict(suspect: tuple[int, str], links_past: bool) -> str:
    """The chain carries on past an inserted entry, but not past an altered one."""
    if links_past:
        return f"entry {suspect[0]} was inserted (it is not part of the chain)"
    return f"entry {suspect[0]} was altered"
