"""New slots get time-ordered ids, and on PostgreSQL the one-live-appointment-per-slot index
carries the columns the day view reads (ADR 0024).

The index keeps its name, key and condition, so it still refuses a second live appointment for a
slot and still answers the booking's ON CONFLICT; INCLUDE only adds id, status and patient to its
entries, so a day's appointments are read from the index without visiting the table. SQLite has no
INCLUDE (Django would skip a constraint that asks for one there), so it keeps the plain index.
"""

import uuid_utils.compat
from django.db import migrations, models

LIVE_SLOT_INDEX = (
    "CREATE UNIQUE INDEX one_live_appointment_per_slot ON appointments_appointment (slot_id)"
    " {include} WHERE NOT (status = 'cancelled')"
)


def _live_slot_index(include: str):
    def rebuild(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute("DROP INDEX one_live_appointment_per_slot")
            schema_editor.execute(LIVE_SLOT_INDEX.format(include=include))

    return rebuild


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0005_appointmentevent_back_entered"),
    ]

    operations = [
        migrations.AlterField(
            model_name="slot",
            name="id",
            field=models.UUIDField(
                default=uuid_utils.compat.uuid7, editable=False, primary_key=True, serialize=False
            ),
        ),
        migrations.RunPython(
            _live_slot_index("INCLUDE (id, status, patient_id)"), _live_slot_index("")
        ),
    ]
