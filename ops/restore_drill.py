#!/usr/bin/env python3
"""The restore drill: a point-in-time restore from pgBackRest into a scratch instance, checked.

    ops/restore-drill mark --dsn DSN --out mark.json
        On the live primary: hold writes back for a moment (EXCLUSIVE locks on every table; reads
        go on), record each table's row count and checksum and the time, then let writes go.
        Every transaction committed before that time is in the checksums and none after.
    ops/restore-drill restore --config PGBACKREST_CONF --mark mark.json [--scratch DIR]
        pgbackrest verify; restore to the mark's time into a scratch folder; start PostgreSQL
        there on a private socket, with archiving off; wait for it to reach the time and promote;
        then check: `steadfast audit-verify` passes and every table's count and checksum equal
        the mark's. Prints a verdict and exits non-zero on any difference. Stops the scratch
        instance and removes it unless --keep.

`steadfast audit-verify` runs with the caller's environment (give it the service's SECRET_KEY or
AUDIT_KEY, as on the application hosts). As root, PostgreSQL and pgBackRest run as `postgres`.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

OPS = Path(__file__).resolve().parent
sys.path.insert(0, str(OPS))

from cluster import STANZA, ClusterUnavailable, free_port, pg_bindir, run_as_user  # noqa: E402

CHECKSUM = (
    "SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '')"
    " FROM {table} t"
)


def _tables(conn) -> list[str]:
    rows = conn.execute(
        "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def table_checksums(conn) -> dict[str, list]:
    return {t: list(conn.execute(CHECKSUM.format(table=t)).fetchone()) for t in _tables(conn)}


def mark(dsn: str, timeout: float = 60) -> dict:
    """The state of every table at one instant, and that instant (see the module's doc).

    The locks are taken all at once or not at all (NOWAIT, tried again at once): waiting for them
    one by one would deadlock with a writer holding one table and wanting another.
    """
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn) as conn:
        tables = _tables(conn)
        conn.rollback()
        while True:
            try:
                conn.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE NOWAIT")
                break
            except psycopg.errors.LockNotAvailable:
                conn.rollback()
                if time.monotonic() > deadline:
                    raise RuntimeError("writes never paused long enough to mark it") from None
                time.sleep(random.uniform(0, 0.005))
        # Every writer that got in first has committed; none can commit until we let go.
        checksums = table_checksums(conn)
        at = conn.execute("SELECT clock_timestamp()").fetchone()[0].astimezone(UTC)
        conn.rollback()  # releases the locks: writes go on
        # Recovery stops at the first commit after the time: make sure there is one, even if
        # nothing else is written (a transaction with an id writes a commit record).
        conn.execute("SELECT pg_current_xact_id()")
        conn.commit()
    # As pgBackRest reads a time: milliseconds at most, rounded down (still inside the pause).
    target = f"{at:%Y-%m-%d %H:%M:%S}.{at.microsecond // 1000:03d}+00"
    return {"target_time": target, "tables": checksums}


class Scratch:
    """A PostgreSQL restored from the repository into a private folder."""

    def __init__(self, config: Path, root: Path | None = None) -> None:
        self.config = config
        self.run_as = run_as_user()
        self.root = root or Path(tempfile.mkdtemp(prefix="steadfast-restore-drill-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.port = free_port()
        if self.run_as:
            shutil.chown(self.root, user=self.run_as, group=self.run_as)

    def _run(self, argv: list[str], timeout: float = 3600) -> str:
        result = subprocess.run(
            argv, user=self.run_as, capture_output=True, text=True, timeout=timeout, cwd=self.root
        )
        if result.returncode != 0:
            raise ClusterUnavailable(f"{Path(argv[0]).name} failed: {result.stderr[-2000:]}")
        return result.stdout

    def pgbackrest(self, *args: str) -> str:
        return self._run(["pgbackrest", f"--config={self.config}", f"--stanza={STANZA}", *args])

    def restore(self, target_time: str) -> None:
        restore_command = (
            f"pgbackrest --config={self.config} --stanza={STANZA} --pg1-path={self.data}"
            ' archive-get %f "%p"'
        )
        self.pgbackrest(
            "restore",
            f"--pg1-path={self.data}",
            "--type=time",
            f"--target={target_time}",
            "--target-action=promote",
            "--archive-mode=off",  # the scratch copy must never write into the repository
            f"--recovery-option=restore_command={restore_command}",
        )
        # Only this folder's socket may connect: the scratch copy is nobody's service.
        (self.data / "pg_hba.conf").write_text("local all all trust\n")

    def start(self, timeout: float = 3600) -> None:
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=''",
                f"-c unix_socket_directories={self.root}",
                "-c archive_mode=off",
                "-c synchronous_standby_names=''",
                "-c hot_standby=on",
                f"-c hba_file={self.data / 'pg_hba.conf'}",
            ]
        )
        pg_ctl = [str(pg_bindir() / "pg_ctl"), "start", "-D", str(self.data), "-w", "-t", "3600"]
        log = self.root / "postgres.log"
        try:
            self._run([*pg_ctl, "-l", str(log), "-o", options], timeout=timeout)
        except ClusterUnavailable as exc:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise ClusterUnavailable(f"{exc}\n{tail}") from exc
        import psycopg

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # until recovery reached the time and promoted
            try:
                with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
                    if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                        return
            except psycopg.OperationalError as exc:
                tail = log.read_text(errors="replace")[-3000:]
                raise ClusterUnavailable(f"the restored copy stopped: {tail}") from exc
            time.sleep(0.2)
        raise ClusterUnavailable("the restored copy did not finish recovery")

    def dsn(self, dbname: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@/{dbname}?host={self.root}&port={self.port}"

    def stop(self, keep: bool = False) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [str(pg_bindir() / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast", "-w"],
                user=self.run_as,
                capture_output=True,
                cwd=self.root,
            )
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)


def compare(expected: dict, found: dict) -> list[str]:
    problems = []
    for table in sorted(set(expected) | set(found)):
        if expected.get(table) != found.get(table):
            problems.append(f"{table}: expected {expected.get(table)}, found {found.get(table)}")
    return problems


def drill(
    config: Path,
    the_mark: dict,
    database: str,
    steadfast: str,
    keep: bool = False,
    env: dict | None = None,
    inspect=None,
) -> dict:
    """Restore to the mark's time and check it; a verdict dict (verified True or False).
    `inspect(connection)`, if given, looks at the restored database before it is stopped."""
    import psycopg

    scratch = Scratch(config)
    verdict: dict = {"target_time": the_mark["target_time"], "scratch": str(scratch.root)}
    try:
        scratch.pgbackrest("verify")
        started = time.monotonic()
        scratch.restore(the_mark["target_time"])
        scratch.start()
        verdict["restore_s"] = round(time.monotonic() - started, 1)
        with psycopg.connect(scratch.dsn(database), autocommit=True) as conn:
            verdict["size_mb"] = round(
                conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 1e6
            )
            found = table_checksums(conn)
            if inspect:
                verdict["inspected"] = inspect(conn)
        verdict["differences"] = compare(the_mark["tables"], found)
        env = {**(env or os.environ), "DATABASE_URL": scratch.dsn(database, user=database)}
        as_of = ["--as-of", the_mark["target_time"]]  # later checkpoints are not in this copy
        audit = subprocess.run(
            [steadfast, "audit-verify", *as_of], env=env, capture_output=True, text=True
        )
        verdict["audit"] = (audit.stdout or audit.stderr).strip()
        verdict["verified"] = audit.returncode == 0 and not verdict["differences"]
    finally:
        scratch.stop(keep=keep)
    return verdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    m = sub.add_parser("mark", help="record the live database's state and the time")
    m.add_argument("--dsn", required=True, help="superuser connection to the primary's database")
    m.add_argument("--out", type=Path, required=True)
    r = sub.add_parser("restore", help="restore to a mark's time and check against it")
    r.add_argument("--config", type=Path, required=True, help="pgbackrest.conf")
    r.add_argument("--mark", type=Path, required=True)
    r.add_argument("--database", default="steadfast")
    r.add_argument("--steadfast", default=shutil.which("steadfast") or "steadfast")
    r.add_argument("--keep", action="store_true", help="leave the scratch instance's folder")
    args = parser.parse_args(argv)
    if args.action == "mark":
        state = mark(args.dsn)
        args.out.write_text(json.dumps(state, indent=1))
        print(f"marked {len(state['tables'])} tables at {state['target_time']}")
        return 0
    the_mark = json.loads(args.mark.read_text())
    datetime.fromisoformat(the_mark["target_time"])  # refuse a malformed mark early
    verdict = drill(args.config, the_mark, args.database, args.steadfast, args.keep)
    for problem in verdict["differences"]:
        print(f"difference: {problem}")
    print(verdict["audit"])
    print(
        f"restore: size_mb={verdict['size_mb']} restore_s={verdict['restore_s']} "
        f"verified={'yes' if verdict['verified'] else 'no'}"
    )
    return 0 if verdict["verified"] else 1


if __name__ == "__main__":
    sys.exit(main())
