"""The triggers that make the audit table append-only, and the check that they are still there.

PostgreSQL's comes with migration 0002. SQLite's come with migration 0004 and are put back after
every `migrate`, because SQLite rebuilds a table to alter it and the rebuild drops its triggers.
"""

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder

SQLITE_TRIGGERS = {
    "audit_refuse_update": "UPDATE",
    "audit_refuse_delete": "DELETE",
}
SQLITE_MIGRATION = ("audit", "0004_append_only_sqlite")


def create_sqlite_triggers(cursor) -> None:
    for name, operation in SQLITE_TRIGGERS.items():
        cursor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {operation} ON audit_auditevent"
            f" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: {operation} refused'); END"
        )


def drop_sqlite_triggers(cursor) -> None:
    for name in SQLITE_TRIGGERS:
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def restore_after_migrate(using: str = "default", **kwargs) -> None:
    """post_migrate: on SQLite, once migration 0004 is in, the triggers are there."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    if SQLITE_MIGRATION not in MigrationRecorder(connection).applied_migrations():
        return
    with connection.cursor() as cursor:
        create_sqlite_triggers(cursor)


def missing_protection(connection: BaseDatabaseWrapper) -> str | None:
    """Why the audit table is not append-only right now (someone removed the trigger), if so."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgenabled FROM pg_trigger"
                " WHERE tgrelid = 'audit_auditevent'::regclass AND tgname = 'audit_append_only'"
            )
            row = cursor.fetchone()
            if row is None:
                return "the append-only trigger on the audit table was dropped"
            if row[0] == "D":
                return "the append-only trigger on the audit table was disabled"
            return None
        cursor.execute(
            "SELECT name FROM sqlite_master"
            " WHERE type = 'trigger' AND tbl_name = 'audit_auditevent'"
        )
        missing = set(SQLITE_TRIGGERS) - {name for (name,) in cursor.fetchall()}
    if missing:
        names = ", ".join(sorted(missing))
        return f"the append-only triggers on the audit table were dropped ({names})"
    return None
