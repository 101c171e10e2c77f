"""The audit table refuses UPDATE and DELETE, on SQLite as on PostgreSQL."""

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import DatabaseError, connection, transaction

from steadfast.audit.append_only import drop_sqlite_triggers, missing_protection
from steadfast.audit.models import AuditEvent
from steadfast.audit.services import record

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "sql", ["UPDATE audit_auditevent SET detail = 'x'", "DELETE FROM audit_auditevent"]
)
def test_the_audit_table_refuses_update_and_delete(sql):
    for i in range(3):
        record("test_entry", detail=f"entry {i}")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert list(AuditEvent.objects.values_list("detail", flat=True)) == [
        "entry 2",
        "entry 1",
        "entry 0",
    ]


def test_sqlite_puts_the_triggers_back_after_migrate():
    """SQLite drops a table's triggers when a migration rebuilds the table."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: PostgreSQL alters tables in place")
    with connection.cursor() as cursor:
        drop_sqlite_triggers(cursor)
    assert "dropped" in missing_protection(connection)
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert missing_protection(connection) is None
