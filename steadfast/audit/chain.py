"""Hashing the audit chains: one chain per practice, and a system chain for entries of no practice.

The HMAC key is AUDIT_KEY (or, failing that, one derived from SECRET_KEY): someone who can write
to the database but does not hold the key cannot forge an entry that verifies.
"""

import hashlib
import hmac
import uuid
from datetime import UTC

from django.conf import settings

GENESIS = "0" * 64
# The chain of entries of no practice, such as a failed sign-in by an unknown username.
SYSTEM_CHAIN = uuid.UUID(int=0)
SEPARATOR = "\x1f"
CONTENT_FIELDS = (
    "chain",
    "seq",
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
# of converting thirteen typed columns in Python. Tests check the two agree.
CANONICAL_SQL = " || chr(31) || ".join(
    [
        "chain::text",
        "seq::text",
        "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')",
        *(f"coalesce({f}::text, '')" for f in CONTENT_FIELDS[3:]),
    ]
)


def chain_of(practice_id) -> uuid.UUID:
    """The chain an entry belongs to: its practice's, or the system chain."""
    return practice_id or SYSTEM_CHAIN


def chain_name(chain) -> str:
    """How audit-verify and the checkpoint file name a chain (ids only)."""
    return "system" if str(chain) == str(SYSTEM_CHAIN) else f"practice {chain}"


def key() -> bytes:
    return (
        getattr(settings, "AUDIT_KEY", "").encode()
        or hashlib.sha256(b"steadfast-audit:" + settings.SECRET_KEY.encode()).digest()
    )


def canonical(chain, seq, at, *rest) -> str:
    """One entry's content as the text its HMAC covers: CONTENT_FIELDS, in order."""
    if len(rest) != len(CONTENT_FIELDS) - 3:
        raise TypeError(f"canonical() takes the {len(CONTENT_FIELDS)} CONTENT_FIELDS")
    return SEPARATOR.join(
        [str(chain), str(seq), at.astimezone(UTC).isoformat(timespec="microseconds")]
        + ["" if v is None else str(v) for v in rest]
    )


def sign(text: str, key_: bytes | None = None) -> str:
    return hmac.new(key_ or key(), text.encode(), hashlib.sha256).hexdigest()


def entry_hash(*content, key_: bytes | None = None) -> str:
    """The HMAC of an entry's content (CONTENT_FIELDS, in order)."""
    return sign(canonical(*content), key_)


def head_signature(
    chain, last_seq: int, last_event_id: int, last_hash: str, key_: bytes | None = None
) -> str:
    return sign(f"head:{chain}:{last_seq}:{last_event_id}:{last_hash}", key_)
