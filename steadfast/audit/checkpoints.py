"""Signed checkpoints of the audit chains, kept outside the database.

A checkpoint says "this chain held `count` entries, the newest at place `seq` with hash `hash`",
signed with a key the database does not hold. Appended to AUDIT_CHECKPOINT_FILE (a folder apart
from the database's) and sent to syslog where /dev/log exists, it lets `audit-verify` notice a
chain cut short, rolled back to an old head, or wiped, which the chain alone cannot show.
Checkpoints carry ids and hashes only, never anything about a patient.
"""

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from logging.handlers import SysLogHandler
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from steadfast.audit import chain as chain_hashing

logger = logging.getLogger(__name__)


def _key() -> bytes:
    return (
        settings.AUDIT_CHECKPOINT_KEY.encode()
        or hashlib.sha256(b"steadfast-audit-checkpoint:" + chain_hashing.key()).digest()
    )


@dataclass(frozen=True)
class Checkpoint:
    chain: str
    seq: int
    count: int  # entries in the chain up to `seq`: seq itself, as places are numbered 1, 2, 3...
    entry: int  # the newest entry's id
    hash: str
    at: str
    signature: str = ""

    @classmethod
    def new(cls, chain, seq: int, entry: int, hash_: str) -> "Checkpoint":
        unsigned = cls(str(chain), seq, seq, entry, hash_, timezone.now().isoformat())
        return cls(**{**asdict(unsigned), "signature": unsigned.expected_signature()})

    def restamped(self) -> "Checkpoint":
        """The same checkpoint, timed and signed now."""
        return self.new(self.chain, self.seq, self.entry, self.hash)

    @classmethod
    def of_head(cls, head) -> "Checkpoint":
        return cls.new(head.chain, head.last_seq, head.last_event_id, head.last_hash)

    def expected_signature(self) -> str:
        text = f"checkpoint:{self.chain}:{self.seq}:{self.count}:{self.entry}:{self.hash}:{self.at}"
        return chain_hashing.sign(text, _key())

    @property
    def genuine(self) -> bool:
        return self.signature == self.expected_signature()

    def line(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":")) + "\n"


def write(checkpoints: list[Checkpoint]) -> None:
    """Append to the checkpoint file (one write, flushed to disk), then copy to syslog."""
    if not checkpoints:
        return
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        # In WAL mode with synchronous=NORMAL a commit reaches the disk at the next WAL
        # checkpoint: take one, so no checkpoint names an entry a power cut could take back.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    text = "".join(c.line() for c in checkpoints)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    if handler := _syslog(settings.AUDIT_SYSLOG_ADDRESS):
        for checkpoint in checkpoints:
            message = f"steadfast audit checkpoint {checkpoint.line().strip()}"
            handler.emit(logging.LogRecord(__name__, logging.INFO, "", 0, message, None, None))


@cache
def _syslog(address: str) -> SysLogHandler | None:
    """A handler for the local syslog socket, if there is one (not in most containers)."""
    if not address or not os.path.exists(address):
        return None
    return SysLogHandler(address=address, facility=SysLogHandler.LOG_AUTHPRIV)


@dataclass
class CheckpointFile:
    """What the checkpoint file says: each chain's checkpoints by place, and unreadable lines."""

    path: Path
    by_chain: dict[str, dict[int, Checkpoint]]
    problems: list[str]

    @property
    def total(self) -> int:
        return sum(len(c) for c in self.by_chain.values())


def read(path: Path | None = None, as_of: datetime | None = None) -> CheckpointFile:
    """The checkpoint file; with `as_of`, only checkpoints written by then (to check a copy of the
    database from that time: a backup, a point-in-time restore)."""
    path = Path(path or settings.AUDIT_CHECKPOINT_FILE)
    by_chain: dict[str, dict[int, Checkpoint]] = {}
    problems = []
    if not path.exists():
        return CheckpointFile(path, by_chain, problems)
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                checkpoint = Checkpoint(**json.loads(line))
            except (ValueError, TypeError):
                problems.append(f"line {number} of the checkpoint file is unreadable")
                continue
            if not checkpoint.genuine:
                problems.append(f"line {number} of the checkpoint file is forged (bad signature)")
                continue
            if as_of is not None and datetime.fromisoformat(checkpoint.at) > as_of:
                continue  # written after the copy was taken
            places = by_chain.setdefault(checkpoint.chain, {})
            earlier = places.setdefault(checkpoint.seq, checkpoint)
            if earlier.hash != checkpoint.hash:
                problems.append(
                    f"line {number} of the checkpoint file names another entry at place"
                    f" {checkpoint.seq} of {chain_hashing.chain_name(checkpoint.chain)} than an"
                    " earlier line: the chain was rolled back and written again"
                )
    return CheckpointFile(path, by_chain, problems)
