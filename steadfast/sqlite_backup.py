"""Backups of the embedded SQLite database, taken while it serves, and restoring one.

A backup is SQLite's online backup API (one step, so it is one consistent snapshot; in WAL mode
writers carry on meanwhile), then checked on the copy: `PRAGMA integrity_check` and the audit
chain (`steadfast audit-verify` run against the copy). Only a copy that passes gets its final
name, and the newest `keep` are kept. With an age recipient (public key) the copy is encrypted
(age format, pyrage): the server can write backups it cannot read, and `age -d` opens them too.
A restore checks the file the same way before it writes anything.
"""

import logging
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pyrage
from django.conf import settings

logger = logging.getLogger(__name__)
PREFIX = "steadfast-"
PLAIN, ENCRYPTED = ".sqlite3", ".sqlite3.age"
STAMP = "%Y%m%dT%H%M%S%fZ"  # in each backup's name: when it was taken, in UTC


class BackupFailed(Exception):
    pass


def live_database() -> Path:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.sqlite3":
        raise BackupFailed(
            "This is for the embedded SQLite database; PostgreSQL is backed up by pgBackRest "
            "(see docs/operations.md)."
        )
    return Path(db["NAME"])


def copy_database(source: Path, target: Path) -> None:
    """Copy with SQLite's backup API in one step: a consistent snapshot of `source`."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _regexp(pattern, value) -> bool | None:
    """SQL REGEXP as Django defines it for SQLite, so CHECK constraints can be checked."""
    return None if pattern is None or value is None else bool(re.search(pattern, str(value)))


def check(copy: Path, as_of: datetime | None = None) -> str:
    """Raise BackupFailed unless the copy is sound (pages, indexes, NOT NULL and CHECK
    constraints) and its audit chain verifies. `copy` is a private copy: it is opened writable,
    since SQLite skips CHECK constraints when checking a read-only database. `as_of` is when the
    copy was taken: audit checkpoints written after it are not held against it."""
    conn = sqlite3.connect(copy)
    conn.create_function("REGEXP", 2, _regexp, deterministic=True)
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        problems += [f"{row[0]} row {row[1]}" for row in conn.execute("PRAGMA foreign_key_check")]
    finally:
        conn.close()
    if problems != ["ok"]:
        raise BackupFailed(f"integrity check failed: {'; '.join(problems[:5])}")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{copy}"}
    as_of_args = ["--as-of", as_of.isoformat()] if as_of else []
    result = subprocess.run(
        [sys.executable, "-m", "steadfast.cli", "audit-verify", *as_of_args],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if result.returncode != 0:
        raise BackupFailed(f"audit trail does not verify: {result.stderr.strip()[-500:]}")
    return result.stdout.strip()


def take_backup(to_dir: Path, keep: int, recipient: str | None = None) -> tuple[Path, str]:
    """Back the live database up into `to_dir`; (the backup's path, the audit verdict)."""
    source = live_database()
    to_dir.mkdir(parents=True, exist_ok=True)
    taken = datetime.now(UTC)
    final = to_dir / f"{PREFIX}{taken.strftime(STAMP)}{ENCRYPTED if recipient else PLAIN}"
    with tempfile.TemporaryDirectory(dir=to_dir, prefix=".partial-") as work:
        copy = Path(work) / "copy.sqlite3"
        copy_database(source, copy)
        verdict = check(copy, as_of=taken)
        if recipient:
            sealed = Path(work) / "copy.age"
            pyrage.encrypt_file(str(copy), str(sealed), [_recipient(recipient)])
            copy = sealed
        copy.chmod(0o600)
        copy.replace(final)
    prune(to_dir, keep)
    return final, verdict


def scheduled_backup() -> Path | None:
    """The worker's job (steadfast/jobs.py): a backup into BACKUP_DIR. On PostgreSQL there is
    nothing to do here: pgBackRest archives continuously and its timers take the backups."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        return None
    recipient = settings.BACKUP_RECIPIENT or None
    path, verdict = take_backup(settings.BACKUP_DIR, settings.BACKUP_KEEP, recipient)
    logger.info("backup %s checked: %s", path.name, verdict)
    return path


def prune(to_dir: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` backups (their names sort by time)."""
    backups = sorted(p for p in to_dir.glob(f"{PREFIX}*") if p.name.endswith((PLAIN, ENCRYPTED)))
    doomed = backups[: max(len(backups) - keep, 0)]
    for old in doomed:
        old.unlink()
    return doomed


def restore(backup: Path, target: Path, *, force: bool, identity: str | None = None) -> str:
    """Check `backup`, then write it over `target` (only with force if that exists).

    The database there before is kept beside it as `<name>.before-restore-<time>`.
    """
    if target.exists() and not force:
        raise BackupFailed(f"{target} exists; add --force to replace it (it is kept aside).")
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".restore-") as work:
        copy = Path(work) / "copy.sqlite3"
        if backup.name.endswith(".age"):
            if not identity:
                raise BackupFailed("This backup is encrypted: give --identity (the age key file).")
            try:
                pyrage.decrypt_file(str(backup), str(copy), _identities(identity))
            except pyrage.DecryptError as exc:
                raise BackupFailed(f"cannot decrypt {backup.name}: {exc}") from exc
        else:
            try:
                copy_database(backup, copy)  # the backup itself stays untouched
            except sqlite3.DatabaseError as exc:
                raise BackupFailed(f"{backup.name} is not a SQLite database: {exc}") from exc
        verdict = check(copy, as_of=_taken(backup))
        if target.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            copy_database(target, target.with_name(f"{target.name}.before-restore-{stamp}"))
        copy_database(copy, target)  # through SQLite, so the target's WAL stays consistent
    return verdict


def _taken(backup: Path) -> datetime | None:
    """When a backup was taken, from its name; None if it was renamed (then every checkpoint
    counts, the strict choice)."""
    stamp = backup.name.removeprefix(PREFIX).split(".")[0]
    try:
        return datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def _recipient(text: str) -> pyrage.x25519.Recipient:
    try:
        return pyrage.x25519.Recipient.from_str(text.strip())
    except pyrage.RecipientError as exc:
        raise BackupFailed("The backup recipient must be an age public key (age1...).") from exc


def _identities(identity_file: str) -> list:
    lines = Path(identity_file).read_text().splitlines()
    keys = [line.strip() for line in lines if line.strip().startswith("AGE-SECRET-KEY-")]
    try:
        return [pyrage.x25519.Identity.from_str(key) for key in keys]
    except pyrage.IdentityError as exc:
        raise BackupFailed("The identity file holds no valid age secret key.") from exc
