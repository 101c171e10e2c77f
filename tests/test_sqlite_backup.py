"""`steadfast backup` while bookings are being made, and `steadfast restore` of what it took.

Real processes on a real SQLite file (WAL): one books appointments continuously while backups
are taken; each backup is restored and must hold every booking committed before it began, be
sound, and have an audit chain that verifies.
"""

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyrage
import pytest

ROOT = Path(__file__).resolve().parent.parent
STEADFAST = [sys.executable, "-m", "steadfast.cli"]


def environment(db: Path) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "STEADFAST_VAR_DIR": str(db.parent),
        "SECRET_KEY": "backup-test-secret-key-" + "x" * 30,  # pragma: allowlist secret
        "PYTHONPATH": str(ROOT),
        # Checkpoints often: a backup must be checked against those written before it only.
        "AUDIT_CHECKPOINT_EVERY": "5",
    }


@pytest.fixture(scope="module")
def migrated(tmp_path_factory, pytestconfig) -> Path:
    """A migrated database, made once and copied for each test."""
    if pytestconfig.getoption("--postgres"):
        pytest.skip("SQLite backups are tested in the SQLite pass")
    db = tmp_path_factory.mktemp("template") / "template.sqlite3"
    steadfast(environment(db), "migrate", "--no-input")
    return db


@pytest.fixture
def env(tmp_path, migrated):
    shutil.copy(migrated, tmp_path / "live.sqlite3")
    return environment(tmp_path / "live.sqlite3")


def steadfast(env, *args, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*STEADFAST, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    if check and result.returncode != 0:
        raise AssertionError(f"steadfast {args[0]} failed: {result.stderr[-2000:]}")
    return result


def rows(db: Path, sql: str) -> list:
    conn = sqlite3.connect(db)
    conn.create_function("REGEXP", 2, lambda pattern, value: bool(re.search(pattern, value)))
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def appointment_ids(db: Path) -> set[str]:
    return {r[0].replace("-", "") for r in rows(db, "SELECT id FROM appointments_appointment")}


class Booker:
    """A process booking appointments; `acked` are those whose commit it has seen."""

    def __init__(self, env) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.booking_load", "1000"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "ready"
        self.acked: list[str] = []

    def wait_for(self, count: int) -> list[str]:
        while len(self.acked) < count:
            line = self.proc.stdout.readline()
            assert line, "the booking process stopped"
            self.acked.append(line.strip().replace("-", ""))
        return list(self.acked)

    def stop(self) -> None:
        self.proc.terminate()
        self.acked += [line.strip().replace("-", "") for line in self.proc.stdout]
        self.proc.wait(timeout=60)


def test_backups_taken_while_booking_restore_to_a_sound_verified_database(env, tmp_path):
    booker = Booker(env)
    backups = tmp_path / "backups"
    try:
        taken = []
        for _ in range(2):
            before = booker.wait_for(len(booker.acked) + 20)
            out = steadfast(env, "backup", "--to", str(backups), "--keep", "1").stdout
            taken.append((set(before), Path(out.split()[1])))
            assert "integrity ok, audit trail intact" in out
        during = len(booker.acked)
        booker.wait_for(during + 20)  # bookings went on after the last backup, too
    finally:
        booker.stop()

    kept = sorted(backups.iterdir())
    assert kept == [taken[-1][1]]  # only the newest is kept

    live = tmp_path / "live.sqlite3"
    for committed_before, backup in taken[1:]:
        restored = tmp_path / f"restored-{backup.stem}.sqlite3"
        target_env = env | {"DATABASE_URL": f"sqlite:///{restored}"}
        out = steadfast(target_env, "restore", str(backup)).stdout
        assert "audit trail intact" in out
        held = appointment_ids(restored)
        assert committed_before <= held  # nothing acknowledged before the backup is missing
        assert held <= appointment_ids(live)  # and nothing invented
        assert rows(restored, "PRAGMA integrity_check") == [("ok",)]
    assert len(appointment_ids(live)) == len(booker.acked)

    newest = kept[-1]
    refused = steadfast(env, "restore", str(newest), check=False)  # over the live database
    assert refused.returncode != 0 and "--force" in refused.stderr
    steadfast(env, "restore", str(newest), "--force")
    assert appointment_ids(live) == appointment_ids(tmp_path / f"restored-{newest.stem}.sqlite3")
    assert list(tmp_path.glob("live.sqlite3.before-restore-*"))  # the one replaced, kept aside


def test_a_backup_whose_audit_trail_was_altered_is_not_restored(env, tmp_path):
    booker = Booker(env)
    booker.wait_for(5)
    booker.stop()
    backup = Path(steadfast(env, "backup", "--to", str(tmp_path / "b")).stdout.split()[1])
    conn = sqlite3.connect(backup)
    for (trigger,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
        conn.execute(f'DROP TRIGGER "{trigger}"')  # what someone with the file could do
    conn.execute("UPDATE audit_auditevent SET detail = 'nothing happened' WHERE id = 3")
    conn.commit()
    conn.close()
    target_env = env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'restored.sqlite3'}"}
    refused = steadfast(target_env, "restore", str(backup), check=False)
    assert refused.returncode != 0 and "audit trail does not verify" in refused.stderr
    assert not (tmp_path / "restored.sqlite3").exists()


def test_encrypted_backup_needs_the_key_to_restore(env, tmp_path):
    identity = pyrage.x25519.Identity.generate()
    key_file = tmp_path / "backup-key.txt"
    key_file.write_text(f"{identity}\n")
    out = steadfast(
        env, "backup", "--to", str(tmp_path / "b"), "--recipient", str(identity.to_public())
    )
    backup = Path(out.stdout.split()[1])
    assert backup.name.endswith(".sqlite3.age")
    assert b"SQLite format 3" not in backup.read_bytes()
    target_env = env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'restored.sqlite3'}"}
    refused = steadfast(target_env, "restore", str(backup), check=False)
    assert refused.returncode != 0 and "--identity" in refused.stderr
    steadfast(target_env, "restore", str(backup), "--identity", str(key_file))
    assert rows(tmp_path / "restored.sqlite3", "PRAGMA integrity_check") == [("ok",)]


def test_a_file_that_is_not_a_backup_is_refused(env, tmp_path):
    junk = tmp_path / "steadfast-junk.sqlite3"
    junk.write_bytes(b"not a database" * 100)
    target_env = env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'restored.sqlite3'}"}
    refused = steadfast(target_env, "restore", str(junk), check=False)
    assert refused.returncode != 0 and "not a SQLite database" in refused.stderr


def test_the_worker_takes_a_backup_on_its_schedule(env, tmp_path):
    backups = tmp_path / "scheduled"
    worker_env = env | {"STEADFAST_BACKUP_DIR": str(backups), "STEADFAST_BACKUP_KEEP": "3"}
    steadfast(worker_env, "worker", "--once")
    [backup] = backups.iterdir()
    assert backup.name.startswith("steadfast-") and backup.name.endswith(".sqlite3")
