"""Rotas turn into slots: bank holidays skipped, embargoes set, re-runs harmless."""

from datetime import UTC, date, time

import pytest
from django.utils import timezone

from steadfast.appointments.models import Slot
from steadfast.appointments.services import generate_slots
from tests.factories import SessionTemplateFactory, london

pytestmark = pytest.mark.django_db


def test_weekly_session_becomes_slots_of_the_set_length():
    session = SessionTemplateFactory(weekday=0, start_time=time(9), end_time=time(10))
    created = generate_slots(session.practice, date(2026, 11, 30), date(2026, 12, 6))
    starts = [timezone.localtime(s.start).strftime("%H:%M") for s in Slot.objects.all()]
    assert created == 6
    assert starts == ["09:00", "09:10", "09:20", "09:30", "09:40", "09:50"]


def test_bank_holidays_in_england_are_skipped():
    # Christmas Day 2026 is a Friday; Boxing Day falls on Saturday so Monday 28 Dec is the holiday.
    fri = SessionTemplateFactory(weekday=4)
    SessionTemplateFactory(weekday=0, clinician=fri.clinician, practice=fri.practice)
    generate_slots(fri.practice, date(2026, 12, 21), date(2027, 1, 3))
    days = sorted({timezone.localtime(s.start).date() for s in Slot.objects.all()})
    assert days == [date(2026, 12, 21)]


def test_embargoed_session_releases_at_its_time_on_the_day():
    session = SessionTemplateFactory(
        weekday=1, start_time=time(8), end_time=time(8, 30), release_time=time(8)
    )
    generate_slots(session.practice, date(2026, 12, 1), date(2026, 12, 1))
    assert {s.embargoed_until for s in Slot.objects.all()} == {london(date(2026, 12, 1), 8)}


def test_generating_twice_creates_no_duplicates():
    session = SessionTemplateFactory(weekday=2)
    first = generate_slots(session.practice, date(2026, 12, 2), date(2026, 12, 2))
    second = generate_slots(session.practice, date(2026, 12, 2), date(2026, 12, 2))
    assert (first, second, Slot.objects.count()) == (6, 0, 6)


def test_slots_are_stored_in_utc_but_follow_london_clock_across_clock_change():
    # Clocks go back on Sunday 25 Oct 2026: 09:00 is 08:00 UTC before, 09:00 UTC after.
    session = SessionTemplateFactory(weekday=4, start_time=time(9), end_time=time(9, 10))
    generate_slots(session.practice, date(2026, 10, 23), date(2026, 10, 30))
    utc_hours = [s.start.astimezone(UTC).hour for s in Slot.objects.order_by("start")]
    assert utc_hours == [8, 9]
