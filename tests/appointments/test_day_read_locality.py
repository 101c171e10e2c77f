"""What keeps a day's read small at scale (ADR 0024): slot ids in the order a rota run makes them,
and on PostgreSQL a live-appointment index that holds what the day view reads. That the rebuilt
index still refuses a second live appointment is test_booking.py's
test_database_refuses_two_live_appointments_in_one_slot, run on both databases."""

from datetime import date, time

import pytest
from django.db import connection
from django.utils import timezone

from steadfast.appointments.models import Slot
from steadfast.appointments.services import generate_slots
from tests.factories import GPFactory, SessionTemplateFactory

pytestmark = pytest.mark.django_db


def test_a_rota_run_gives_its_slots_ids_in_the_order_it_makes_them():
    session = SessionTemplateFactory(weekday=0, start_time=time(9), end_time=time(12))
    SessionTemplateFactory(
        weekday=0, practice=session.practice, clinician=GPFactory(practice=session.practice)
    )
    generate_slots(session.practice, date(2026, 11, 30), date(2026, 12, 21))
    by_id = sorted(Slot.objects.all(), key=lambda s: s.id)
    assert len(by_id) == 4 * (18 + 6)
    assert {s.id.version for s in by_id} == {7}
    # A day's slots sit together, days in order, each session's slots in time order.
    days = [timezone.localdate(s.start) for s in by_id]
    assert days == sorted(days)
    for template in {s.session_template_id for s in by_id}:
        starts = [s.start for s in by_id if s.session_template_id == template]
        assert starts == sorted(starts)


@pytest.mark.postgres
def test_the_live_appointment_index_carries_id_status_and_patient():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'one_live_appointment_per_slot'"
        )
        (definition,) = cursor.fetchone()
    assert definition.startswith("CREATE UNIQUE INDEX")
    assert "(slot_id) INCLUDE (id, status, patient_id)" in definition
    assert "WHERE (NOT ((status)::text = 'cancelled'::text))" in definition
