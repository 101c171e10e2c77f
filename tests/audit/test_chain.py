"""The audit trail catches tampering done straight in the database, as an intruder with database
access would do it: the append-only trigger out of the way first, then plain SQL.

The seventeen tamper cases are numbered in their docstrings (listed in docs/security.md). Each
runs on SQLite and, in the `--postgres` pass, on PostgreSQL.
"""

import hashlib
import io
from dataclasses import dataclass

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from steadfast.audit.append_only import create_sqlite_triggers, drop_sqlite_triggers
from steadfast.audit.models import AuditEvent, ChainHead
from steadfast.audit.services import ChainHeadMissing, record
from tests.factories import PracticeFactory

pytestmark = pytest.mark.django_db
COLUMNS = (
    "id, chain, seq, at, user_id, username, role, practice_id, patient_id, action, detail,"
    " source, outcome, prev_hash, hash"
)
FORGE = (
    f"INSERT INTO audit_auditevent ({COLUMNS}) VALUES"
    " (%s, %s, %s, %s, NULL, 'ghost', '', %s, NULL, 'view_patient', '', '', 'allowed', %s, %s)"
)
WRITE_BACK_HEAD = (
    "UPDATE audit_chainhead SET last_seq = %s, last_event_id = %s, last_hash = %s,"
    " signature = %s WHERE chain = %s"
)


@dataclass
class Trail:
    entries: list[AuditEvent]  # our practice's ten entries, places 1 to 10
    heads: dict[int, tuple]  # our chain's head row as it stood after each place
    ours: object
    theirs: object

    def __getitem__(self, i: int) -> AuditEvent:
        return self.entries[i]

    def head_at(self, seq: int) -> list:
        """The values to write back an old (genuinely signed) head row, as a copy would hold."""
        return [*self.heads[seq], in_db(self.ours.pk)]


@pytest.fixture
def trail(django_capture_on_commit_callbacks):
    """Ten entries of one practice, interleaved with another practice's and a system entry,
    anchored by checkpoints as appending and the scheduler leave them: each chain's first entry
    (appending), and each chain as it stands (`audit-checkpoint`, every few minutes)."""
    ours, theirs = PracticeFactory(), PracticeFactory()
    entries, heads = [], {}
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(10):
            entries.append(record("test_entry", practice_id=ours.pk, detail=f"entry {i}"))
            heads[i + 1] = ChainHead.objects.values_list(
                "last_seq", "last_event_id", "last_hash", "signature"
            ).get(chain=ours.pk)
            if i % 2:
                record("test_entry", practice_id=theirs.pk, detail=f"theirs {i}")
        record("login", username="nobody-we-know", outcome="failed")
    call_command("audit-checkpoint", stdout=io.StringIO())
    return Trail(entries, heads, ours, theirs)


def in_db(practice_id):
    """A UUID as raw SQL stores it: PostgreSQL's uuid type, SQLite's 32 hex digits."""
    return practice_id if connection.vendor == "postgresql" else practice_id.hex


def verify() -> str:
    out = io.StringIO()
    call_command("audit-verify", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def verify_fails() -> str:
    with pytest.raises(CommandError) as failure:
        call_command("audit-verify", stdout=io.StringIO())
    return str(failure.value)


def tamper(sql: str, params=()) -> None:
    """As an intruder with database access would: the append-only trigger out of the way (on
    PostgreSQL a superuser's replica role; on SQLite dropped, and put back to cover the tracks),
    then straight SQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql, params)
        else:
            drop_sqlite_triggers(cursor)
            cursor.execute(sql, params)
            create_sqlite_triggers(cursor)


def test_an_untouched_trail_verifies_against_its_checkpoints(trail):
    out = verify()
    assert "audit trail intact: 16 entries verified in 3 chain(s)" in out
    assert "against 5 checkpoint(s)" in out


def test_1_an_altered_entry_is_named(trail):
    """1. An entry's content edited."""
    tamper("UPDATE audit_auditevent SET detail = 'nothing to see' WHERE id = %s", [trail[4].pk])
    assert f"entry {trail[4].pk} was altered" in verify_fails()


def test_2_an_entry_altered_with_a_recomputed_plain_hash_is_still_caught(trail):
    """2. An entry edited and its hash recomputed without the key (plain SHA-256)."""
    forged = hashlib.sha256(b"someone").hexdigest()
    tamper(
        "UPDATE audit_auditevent SET username = 'someone', hash = %s WHERE id = %s",
        [forged, trail[2].pk],
    )
    assert f"entry {trail[2].pk} was altered" in verify_fails()


def test_3_an_entry_moved_into_another_practices_chain_is_caught(trail):
    """3. An entry moved to another practice (its chain and practice edited)."""
    tamper(
        "UPDATE audit_auditevent SET chain = %s, practice_id = %s, seq = 99 WHERE id = %s",
        [in_db(trail.theirs.pk), in_db(trail.theirs.pk), trail[5].pk],
    )
    problem = verify_fails()
    assert f"practice {trail.ours.pk}: 1 entry was deleted before entry {trail[6].pk}" in problem
    assert f"practice {trail.theirs.pk}: entry {trail[5].pk} was inserted" in problem


def test_4_a_renumbered_entry_is_caught(trail):
    """4. An entry's place in its chain edited."""
    tamper("UPDATE audit_auditevent SET seq = 50 WHERE id = %s", [trail[4].pk])
    assert f"entry {trail[4].pk} was altered" in verify_fails()


def test_5_a_forged_entry_after_the_last_is_named(trail):
    """5. A forged entry appended to the end of a chain."""
    forged_id = AuditEvent.objects.order_by("-id").first().pk + 1000
    tamper(
        FORGE,
        [
            forged_id,
            in_db(trail.ours.pk),
            11,
            trail[9].at,
            in_db(trail.ours.pk),
            trail[9].hash,
            "0" * 64,
        ],
    )
    assert f"entry {forged_id} was inserted after the last recorded entry" in verify_fails()


def test_6_an_entry_replaced_inside_the_chain_is_named(trail):
    """6. An entry deleted and a forged one put in its place, linked to its predecessor."""
    t = trail[3]
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [t.pk])
    tamper(
        FORGE, [t.pk, in_db(trail.ours.pk), 4, t.at, in_db(trail.ours.pk), trail[2].hash, "1" * 64]
    )
    assert f"entry {t.pk} was altered" in verify_fails()


def test_7_a_genuine_entry_replayed_at_the_end_is_caught(trail):
    """7. A genuine entry copied, hash and all, to the next place of its chain."""
    copy_id = AuditEvent.objects.order_by("-id").first().pk + 1
    others = COLUMNS.replace("id, chain, seq, ", "").replace("prev_hash, hash", "")
    tamper(
        f"INSERT INTO audit_auditevent ({COLUMNS}) SELECT %s, chain, 11, {others} %s, hash"
        " FROM audit_auditevent WHERE id = %s",
        [copy_id, trail[9].hash, trail[2].pk],
    )
    assert f"entry {copy_id} was inserted after the last recorded entry" in verify_fails()


def test_8_a_deleted_entry_is_named(trail):
    """8. One entry deleted from the middle of a chain."""
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [trail[6].pk])
    problem = verify_fails()
    assert f"1 entry was deleted before entry {trail[7].pk} (place 7)" in problem
    assert "1 entry missing" in problem


def test_9_entries_deleted_from_the_middle_are_counted(trail):
    """9. A run of entries deleted from the middle: the gap in the places is counted."""
    tamper(
        "DELETE FROM audit_auditevent WHERE id IN (%s, %s, %s)",
        [trail[3].pk, trail[4].pk, trail[5].pk],
    )
    problem = verify_fails()
    assert f"3 entries were deleted before entry {trail[6].pk} (places 4 to 6)" in problem
    assert "3 entries missing" in problem


def test_10_entries_deleted_from_the_end_are_noticed(trail):
    """10. Entries deleted from the end of a chain, its head left as it was."""
    tamper("DELETE FROM audit_auditevent WHERE id IN (%s, %s)", [trail[8].pk, trail[9].pk])
    assert f"2 entries were deleted after entry {trail[7].pk}" in verify_fails()


def test_11_entries_deleted_from_the_end_with_the_head_are_noticed(trail):
    """11. Entries deleted from the end together with the chain's head row."""
    tamper("DELETE FROM audit_auditevent WHERE id IN (%s, %s)", [trail[8].pk, trail[9].pk])
    tamper("DELETE FROM audit_chainhead WHERE chain = %s", [in_db(trail.ours.pk)])
    problem = verify_fails()
    assert f"practice {trail.ours.pk}: the chain head was deleted" in problem
    assert "the chain ends at place 8, but was checkpointed at place 10" in problem
    assert "2 entries missing" in problem


def test_12_an_old_head_written_back_after_deleting_later_entries_is_noticed(trail):
    """12. Entries deleted from the end and an old copy of the head row written back."""
    tamper("DELETE FROM audit_auditevent WHERE id IN (%s, %s)", [trail[8].pk, trail[9].pk])
    tamper(WRITE_BACK_HEAD, trail.head_at(8))
    problem = verify_fails()
    assert "the chain ends at place 8, but was checkpointed at place 10" in problem
    assert "2 entries were cut from its end or rolled back" in problem


def test_13_a_deleted_head_is_noticed_and_the_chain_is_not_restarted(trail):
    """13. The chain's head row deleted (appending would start the chain again)."""
    tamper("DELETE FROM audit_chainhead WHERE chain = %s", [in_db(trail.ours.pk)])
    assert f"practice {trail.ours.pk}: the chain head was deleted" in verify_fails()
    with pytest.raises(ChainHeadMissing):
        record("test_entry", practice_id=trail.ours.pk)


def test_14_the_whole_trail_wiped_is_noticed(trail):
    """14. The whole trail wiped: every entry and every head (TRUNCATE, which no row trigger
    sees, on PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditevent, audit_chainhead")
    else:
        tamper("DELETE FROM audit_auditevent")
        tamper("DELETE FROM audit_chainhead")
    problem = verify_fails()
    assert "the audit trail is empty, but" in problem
    assert "holds 5 checkpoints of 3 chains: the trail was wiped" in problem
    assert "16 entries missing" in problem


def test_15_one_practices_chain_wiped_is_noticed(trail):
    """15. One practice's chain wiped, entries and head, while the others stay."""
    tamper("DELETE FROM audit_auditevent WHERE chain = %s", [in_db(trail.ours.pk)])
    tamper("DELETE FROM audit_chainhead WHERE chain = %s", [in_db(trail.ours.pk)])
    problem = verify_fails()
    assert f"practice {trail.ours.pk}: the chain is empty, but was checkpointed at place 10" in (
        problem
    )
    assert f"practice {trail.theirs.pk}" not in problem


def test_16_entries_swapped_in_order_are_noticed(trail):
    """16. Two entries swapped in the order the trail shows them (their ids exchanged)."""
    a, b = trail[3].pk, trail[4].pk
    tamper("UPDATE audit_auditevent SET id = -1 WHERE id = %s", [a])
    tamper("UPDATE audit_auditevent SET id = %s WHERE id = %s", [a, b])
    tamper("UPDATE audit_auditevent SET id = %s WHERE id = -1", [b])
    problem = verify_fails()
    assert f"entry {b} is out of order: place 4 was moved after place 5" in problem
    assert "deleted" not in problem


def test_17_a_chain_rolled_back_and_written_again_is_noticed(trail):
    """17. A chain rolled back (later entries deleted, an old head written back) and then
    carried on by the application as if nothing happened: it looks whole, but is not what was
    checkpointed."""
    tamper("DELETE FROM audit_auditevent WHERE id IN (%s, %s)", [trail[8].pk, trail[9].pk])
    tamper(WRITE_BACK_HEAD, trail.head_at(8))
    rewritten = [record("test_entry", practice_id=trail.ours.pk) for _ in range(3)]
    problem = verify_fails()
    assert (
        f"entry {rewritten[1].pk} is not the entry checkpointed at place 10" in problem
        and "the chain was rolled back and written again" in problem
    )


def test_an_altered_chain_head_is_noticed(trail):
    tamper("UPDATE audit_chainhead SET last_seq = 8 WHERE chain = %s", [in_db(trail.ours.pk)])
    assert f"practice {trail.ours.pk}: the chain head was altered" in verify_fails()


def test_a_dropped_append_only_trigger_is_reported(trail):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER audit_append_only ON audit_auditevent")
        else:
            drop_sqlite_triggers(cursor)
    assert "append-only trigger" in verify_fails()


def test_entries_with_every_field_filled_verify(trail):
    from tests.factories import PatientFactory, UserFactory

    user = UserFactory()
    patient = PatientFactory(practice=user.practice)
    record("view_patient", user=user, patient_id=patient.pk, detail="ünïcode détail")
    record("login", username="someone", outcome="failed")
    assert "audit trail intact: 18 entries verified in 4 chain(s)" in verify()
