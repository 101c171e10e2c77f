"""Failover under load: the primary's PostgreSQL is killed while receptionists book.

Starts a three-member Patroni cluster with production timing (ops/cluster.py: ttl 20, synchronous
replication, strict), migrates Steadfast onto it with the demo practice, serves it with `steadfast
serve` on 127.0.0.1, and sets CLIENTS receptionists booking over HTTP (half from the day view's
Book button, half through FHIR, each booking with its idempotency key; see
steadfast/testing/failover.py). After BEFORE seconds the primary's postmaster and backends are
SIGKILLed (with --kill host, its Patroni too: the host is lost, so the leader key must expire,
ttl 20 s, and the old primary is started again afterwards, as systemd would); booking goes on for
AFTER seconds. Then every booking acknowledged to a client must be
in the new primary exactly once, no slot may hold two live appointments, and the audit chain
must verify there; the old primary must be back as a replica. Everything is stopped at the end.

Last line: `failover: acked=N lost=N duplicate=N rto_s=N`, where rto_s is the time from the kill
to the first booking acknowledged that was sent after it. Target: lost 0, duplicate 0, rto_s < 30.
Needs Debian's etcd-server, pgbackrest and postgresql-15, and `make ops-venv` (Patroni).
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from steadfast.testing.failover import Site, storm, verify, wait_for_role  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--before", type=float, default=15, help="seconds of booking before")
    parser.add_argument("--after", type=float, default=60, help="seconds of booking after")
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--kill", choices=["postgres", "host"], default="postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="steadfast-failover-") as work:
        site = Site(Path(work), fast=False, patients=args.patients, weeks=8)
        try:
            started = time.monotonic()
            site.start()
            up = time.monotonic() - started
            print(f"cluster and server up in {up:.0f} s: {site.cluster.roles()}")
            old = site.cluster.leader()
            tally, killed_at = storm(
                site,
                clients=args.clients,
                before_s=args.before,
                after_s=args.after,
                kill=lambda: (
                    site.cluster.kill_member(old)
                    if args.kill == "host"
                    else site.cluster.kill_postgres(old)
                ),
            )
            new = site.cluster.leader()
            what = "host (Patroni and PostgreSQL)" if args.kill == "host" else "PostgreSQL"
            print(f"killed {old.name}'s {what}; new primary {new.name if new else 'none'}")
            if args.kill == "host":
                site.cluster.start_member(old)  # the host comes back
            rejoined = wait_for_role(site, old.name, "replica", 60)
            print(f"{old.name} back as a replica by itself: {'yes' if rejoined else 'no'}")
            verdict = verify(site, tally, killed_at)
            print(f"answers by HTTP status (0 = no answer): {verdict.answers}")
            print(f"unexpected answers: {len(verdict.unexpected)} {verdict.unexpected[:3]}")
            print(f"slots holding two live appointments: {verdict.double_booked_slots}")
            print(verdict.audit)
        finally:
            site.stop()
    print(
        f"failover: acked={verdict.acked} lost={verdict.lost} "
        f"duplicate={verdict.duplicate + verdict.double_booked_slots} rto_s={verdict.rto_s:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
