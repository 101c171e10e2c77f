"""Tests run on a frozen, ticking clock (tests/conftest.py: time-machine), so "today" never moves
under a test: not at midnight, on a bank holiday, nor on the night the clocks change."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from steadfast.appointments import services
from steadfast.appointments.queries import day_book
from tests.factories import PatientFactory, SlotFactory, UserFactory, tomorrow

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def test_every_test_starts_on_the_same_wednesday_morning():
    assert timezone.localdate() == date(2026, 11, 11)
    assert timezone.localtime().hour == 10


@pytest.mark.parametrize(
    "instant",
    [
        datetime(2026, 11, 11, 23, 59, 59, tzinfo=LONDON),  # a second before midnight
        datetime(2026, 12, 24, 17, 0, tzinfo=LONDON),  # tomorrow is Christmas Day
        datetime(2026, 10, 25, 1, 30, tzinfo=LONDON),  # the clocks go back at 02:00
    ],
    ids=["before-midnight", "christmas-eve", "clock-change-night"],
)
def test_tomorrows_slot_is_booked_and_shown_on_tomorrows_book_at_awkward_times(
    frozen_clock, instant
):
    frozen_clock.move_to(instant)
    slot = SlotFactory()
    patient = PatientFactory(practice=slot.practice)
    services.book_appointment(slot.pk, patient, UserFactory(practice=slot.practice))
    book = day_book(slot.practice, tomorrow())
    assert slot.start.astimezone(LONDON).date() == tomorrow()
    assert [s.id for c in book.columns for s in c.slots if s.appointment_id] == [slot.pk]
