"""Point-in-time restore of a 10,000-patient practice taken under write load, checked.

Starts the three-member Patroni cluster (ops/cluster.py) with its encrypted pgBackRest
repository, loads the demo practice (10,000 patients with their records) and takes a full backup.
Receptionists then book over HTTP (steadfast/testing/failover.py); during the load a differential
backup is taken and the database is marked (ops/restore_drill.py: every table's count and
checksum at one instant, writes held back for that moment only); booking goes on afterwards.
Then `ops/restore-drill`'s restore runs: `pgbackrest verify`, a restore to the mark's time into a
scratch instance, recovery from the archived WAL, and the checks (counts and checksums equal the
mark's, `steadfast audit-verify` passes). The clients' own record is checked as well: every
booking acknowledged before the mark is in the restored copy, none first sent after it is.

Last line: `restore: size_mb=N restore_s=N verified=yes`; restore_s is from the start of
`pgbackrest restore` to the copy being open for writing at the target time.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "ops"))

import restore_drill  # noqa: E402

from steadfast.testing.failover import BIN, Site, storm  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--before", type=float, default=20, help="seconds of load before the mark")
    parser.add_argument("--after", type=float, default=20, help="seconds of load after it")
    parser.add_argument(
        "--no-histories", action="store_true", help="patients without their clinical records"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="steadfast-restore-") as work:
        site = Site(Path(work), fast=False, patients=args.patients, weeks=8)
        site.demo_histories = not args.no_histories
        try:
            started = time.monotonic()
            site.start()
            print(
                f"cluster up, {args.patients} patients loaded in {time.monotonic() - started:.0f} s"
            )
            site.cluster.backup("full")
            marks, marked = [], []

            def backup_and_mark():
                site.cluster.backup("diff")  # under load
                leader = site.cluster.leader()
                marked.append(time.monotonic())  # the mark's time falls between these two
                marks.append(restore_drill.mark(site.cluster.dsn(leader, "steadfast")))
                marked.append(time.monotonic())

            tally, _ = storm(
                site,
                clients=args.clients,
                before_s=args.before,
                after_s=args.after,
                kill=backup_and_mark,
            )
            site.cluster.archive_now()
            the_mark = marks[0]
            print(f"marked at {the_mark['target_time']}; {len(tally.acked)} bookings acknowledged")

            def booking_keys(conn):
                rows = conn.execute(
                    "SELECT split_part(idempotency_key, '|', 2) FROM appointments_appointment"
                    " WHERE idempotency_key IS NOT NULL"
                ).fetchall()
                return {key for (key,) in rows}

            verdict = restore_drill.drill(
                site.cluster.pgbackrest_conf(site.cluster.leader()),
                the_mark,
                "steadfast",
                str(BIN / "steadfast"),
                env=site.env,
                inspect=booking_keys,
            )
            restored = verdict["inspected"]
            missing = [b for b in tally.acked if b.acked_at < marked[0] and b.key not in restored]
            after = [b for b in tally.bookings if b.sent_at > marked[1] and b.key in restored]
            before = sum(1 for b in tally.acked if b.acked_at < marked[0])
            print(f"acknowledged before the mark: {before}, missing from the copy: {len(missing)}")
            print(f"first sent after the mark yet in the copy: {len(after)}")
            for problem in verdict["differences"]:
                print(f"difference: {problem}")
            print(verdict["audit"])
            verified = verdict["verified"] and not missing and not after and before > 0
        finally:
            site.stop()
    print(
        f"restore: size_mb={verdict['size_mb']} restore_s={verdict['restore_s']} "
        f"verified={'yes' if verified else 'no'}"
    )
    return 0 if verified else 1


if __name__ == "__main__":
    sys.exit(main())
