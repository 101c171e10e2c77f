"""The audit chain catches an entry altered, inserted or deleted straight in the database."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from steadfast.audit.models import AuditEvent
from steadfast.audit.services import record
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
FORGE = (
    "INSERT INTO audit_auditevent (id, at, user_id, username, role, practice_id, patient_id,"
    " action, detail, source, outcome, prev_hash, hash)"
    " VALUES (%s, %s, NULL, 'ghost', '', NULL, NULL, 'view_patient', '', '', 'allowed', %s, %s)"
)


@pytest.fixture
def trail():
    return [record("test_entry", detail=f"entry {i}") for i in range(10)]


def verify() -> str:
    out = io.StringIO()
    call_command("audit-verify", stdout=out)
    return out.getvalue()


def verify_fails() -> str:
    with pytest.raises(CommandError) as failure:
        call_command("audit-verify", stdout=io.StringIO())
    return str(failure.value)


def raw_sql(sql: str, params=()) -> None:
    """Tamper as an intruder with database access would: triggers off, straight SQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def test_an_untouched_trail_verifies(trail):
    assert "audit chain intact: 10 entries verified" in verify()


def test_an_altered_entry_is_named(trail):
    raw_sql("UPDATE audit_auditevent SET detail = 'nothing to see' WHERE id = %s", [trail[4].pk])
    assert f"entry {trail[4].pk} was altered" in verify_fails()


def test_an_entry_altered_with_a_recomputed_plain_hash_is_still_caught(trail):
    raw_sql(
        "UPDATE audit_auditevent SET username = 'someone', hash = %s WHERE id = %s",
        ["f" * 64, trail[2].pk],
    )
    assert f"entry {trail[2].pk} was altered" in verify_fails()


def test_an_inserted_entry_is_named(trail):
    t = trail[5]
    raw_sql(
        FORGE,
        [t.pk * 1000, t.at, trail[-1].hash, "0" * 64],
    )
    assert f"entry {t.pk * 1000} was inserted" in verify_fails()


def test_an_entry_inserted_inside_the_chain_is_named(trail):
    raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [trail[3].pk])
    # Put a forged entry where the real one was, linked to its predecessor.
    raw_sql(
        FORGE,
        [trail[3].pk, trail[3].at, trail[2].hash, "1" * 64],
    )
    problem = verify_fails()
    assert f"entry {trail[3].pk} was" in problem


def test_a_deleted_entry_is_named(trail):
    raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [trail[6].pk])
    assert f"entries were deleted before entry {trail[7].pk}" in verify_fails()


def test_entries_deleted_from_the_end_are_noticed(trail):
    raw_sql("DELETE FROM audit_auditevent WHERE id >= %s", [trail[8].pk])
    assert f"deleted after entry {trail[7].pk}" in verify_fails()


@pytest.mark.postgres
def test_postgres_refuses_update_and_delete_of_audit_entries(trail):
    for sql in (
        "UPDATE audit_auditevent SET detail = 'x'",
        "DELETE FROM audit_auditevent",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert AuditEvent.objects.count() == 10


def test_entries_with_every_field_filled_verify(trail):
    user = UserFactory()
    patient = PatientFactory(practice=user.practice)
    record("view_patient", user=user, patient_id=patient.pk, detail="ünïcode détail")
    record("login", username="someone", outcome="failed")
    assert "audit chain intact: 12 entries verified" in verify()
