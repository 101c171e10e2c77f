"""Point-in-time restore under booking load: ops/restore-drill's mark and restore, on the cluster.

A full backup, then receptionists book; during the load a differential backup is taken and the
database marked (every table's count and checksum at one instant); booking goes on. The drill
restores to the mark's time into a scratch instance: it must equal the mark table by table, pass
`steadfast audit-verify`, hold every booking acknowledged before the mark and none sent after.
"""

import sys
import time

import pytest

from steadfast.testing.failover import BIN, PACE_S, ROOT, storm

sys.path.insert(0, str(ROOT / "ops"))
import restore_drill

pytestmark = pytest.mark.cluster


def test_restore_to_a_time_mid_load_has_all_before_and_nothing_after(site):
    site.cluster.backup("full")
    marks, marked = [], []

    def backup_and_mark():
        site.cluster.backup("diff")
        marked.append(time.monotonic())  # the mark's time falls between these two
        marks.append(restore_drill.mark(site.cluster.dsn(site.cluster.leader(), "steadfast")))
        marked.append(time.monotonic())

    def acked_after_the_mark(tally) -> bool:
        with tally.lock:
            return len(marked) == 2 and any(b.sent_at > marked[1] for b in tally.acked)

    tally, _ = storm(
        site,
        clients=4,
        before_s=3,
        after_s=4,
        kill=backup_and_mark,
        pace_s=PACE_S,
        until=acked_after_the_mark,
    )
    site.cluster.archive_now()

    def booking_keys(conn):
        rows = conn.execute(
            "SELECT split_part(idempotency_key, '|', 2) FROM appointments_appointment"
        )
        return {key for (key,) in rows}

    verdict = restore_drill.drill(
        site.cluster.pgbackrest_conf(site.cluster.leader()),
        marks[0],
        "steadfast",
        str(BIN / "steadfast"),
        env=site.env,
        inspect=booking_keys,
    )

    assert verdict["differences"] == [] and "audit trail intact" in verdict["audit"]
    assert verdict["verified"]
    restored = verdict["inspected"]
    # Monotonic times: this process's wall clock may be moved by the tests' time-machine.
    before = [b for b in tally.acked if b.acked_at < marked[0]]
    assert before and all(b.key in restored for b in before)
    assert not [b for b in tally.bookings if b.sent_at > marked[1] and b.key in restored]
    after = [b for b in tally.acked if b.sent_at > marked[1]]
    assert after, (
        f"the load did not go on after the mark: {len(tally.bookings)} sent, {tally.answers}"
    )
