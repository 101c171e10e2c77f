"""Killing members of a three-member Patroni cluster while receptionists book over HTTP.

The drill of benchmarks/failover.py, smaller and with the short Patroni timing of ops/cluster.py
--fast (ttl 10, loop_wait 2; production uses ttl 20, loop_wait 5). Runs with `pytest --cluster`
(make test runs it): tests/ops/conftest.py starts etcd, Patroni, PostgreSQL and `steadfast serve`.
"""

import pytest

from steadfast.testing.failover import PACE_S, storm, verify, wait_for_role

pytestmark = pytest.mark.cluster


def test_primary_killed_mid_booking_loses_and_doubles_nothing_and_rejoins(site):
    old = site.cluster.leader()
    tally, killed_at = storm(
        site,
        clients=4,
        before_s=4,
        after_s=14,
        kill=lambda: site.cluster.kill_postgres(old),
        pace_s=PACE_S,
    )
    verdict = verify(site, tally, killed_at)

    assert verdict.acked > 20 and verdict.unexpected == []
    assert (verdict.lost, verdict.duplicate, verdict.double_booked_slots) == (0, 0, 0)
    assert 0 < verdict.rto_s < 30
    assert set(verdict.answers) <= {0, 200, 201, 503}  # never a 500: "switching over" at worst
    assert "audit trail intact" in verdict.audit
    new = site.cluster.leader()
    assert new is not None and new.name != old.name
    assert wait_for_role(site, old.name, "replica", 60), "the old primary did not rejoin"


def test_replica_lost_mid_booking_writes_carry_on(site):
    leader = site.cluster.leader()
    site.cluster.wait_until_replicating(2, 60)
    sync = next(
        m["name"] for m in site.cluster.cluster_view()["members"] if m["role"] == "sync_standby"
    )
    tally, killed_at = storm(
        site,
        clients=4,
        before_s=3,
        after_s=12,
        kill=lambda: site.cluster.kill_member(site.cluster.member(sync)),  # the host is lost
        pace_s=PACE_S,
    )
    verdict = verify(site, tally, killed_at)

    assert (verdict.lost, verdict.duplicate, verdict.unexpected) == (0, 0, [])
    late = [b for b in tally.acked if b.acked_at > killed_at + 6]
    assert len(late) > 10, "bookings stopped when a replica was lost"
    assert site.cluster.leader().name == leader.name  # no failover for a replica
    site.cluster.start_member(site.cluster.member(sync))  # it comes back as a replica
    assert wait_for_role(site, sync, "replica", 60)
    assert "audit trail intact" in verdict.audit
