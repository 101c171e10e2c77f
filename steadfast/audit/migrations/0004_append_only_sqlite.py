"""On SQLite too the audit table refuses UPDATE and DELETE (short of dropping the triggers, which
audit-verify reports, and which still leaves the chain and its checkpoints to catch the change).
"""

from django.db import migrations

from steadfast.audit.append_only import create_sqlite_triggers, drop_sqlite_triggers


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            create_sqlite_triggers(cursor)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            drop_sqlite_triggers(cursor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chain_per_practice")]
    operations = [migrations.RunPython(forwards, backwards)]
