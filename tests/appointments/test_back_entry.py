"""Arrivals and other changes noted on paper, entered afterwards with the time they happened:
the appointment's history shows them as back-entered, with both times; the audit has both."""

from datetime import timedelta

import pytest
from django.utils import timezone

from steadfast.appointments import services
from steadfast.appointments.models import AppointmentStatus
from steadfast.audit.models import AuditEvent
from steadfast.errors import InvalidTransition
from tests.factories import PatientFactory, SlotFactory, london

pytestmark = pytest.mark.django_db
S = AppointmentStatus
NODE = "node surgery-back-office during downtime"


@pytest.fixture
def this_morning():
    return london(timezone.localdate(), 8, 40)


@pytest.fixture
def booked(gp, this_morning):
    """An appointment at 08:50 today (the clock is frozen at 10:00), booked last week."""
    start = this_morning + timedelta(minutes=10)
    slot = SlotFactory(clinician=gp, start=start, end=start + timedelta(minutes=10))
    patient = PatientFactory(practice=gp.practice)
    return services.book_appointment(
        slot.pk, patient, gp, occurred_at=this_morning - timedelta(days=7)
    )


def test_booking_entered_afterwards_keeps_when_it_was_made(booked, this_morning):
    assert booked.booked_at == this_morning - timedelta(days=7)
    event = booked.events.get()
    assert event.back_entered and event.occurred_at == booked.booked_at


def test_arrival_from_paper_keeps_its_real_time_and_the_audit_has_both(
    booked, reception, this_morning
):
    services.mark_arrived(booked, reception, occurred_at=this_morning, entered_via=NODE)
    event = booked.events.get(to_status=S.ARRIVED)
    assert (event.occurred_at, event.back_entered, event.entered_via) == (this_morning, True, NODE)
    assert timezone.now() - event.recorded_at < timedelta(minutes=1)
    booked.refresh_from_db()
    assert booked.status_changed_at == this_morning
    audit = AuditEvent.objects.filter(action="appointment_arrived").latest("id")
    assert audit.user_id == reception.pk
    assert timezone.now() - audit.at < timedelta(minutes=1)
    assert audit.detail.endswith(f" occurred 2026-11-11T08:40:00+00:00 via {NODE}")


def test_a_change_made_now_is_not_back_entered(booked, reception):
    services.mark_arrived(booked, reception)
    assert not booked.events.get(to_status=S.ARRIVED).back_entered
    assert "occurred" not in AuditEvent.objects.filter(action="appointment_arrived").get().detail


def test_a_change_cannot_be_dated_before_the_last_one(booked, reception, this_morning):
    services.mark_arrived(booked, reception, occurred_at=this_morning)
    with pytest.raises(InvalidTransition, match="on or after its last change, 11 Nov 2026 08:40"):
        services.start_appointment(booked, reception, occurred_at=this_morning - timedelta(hours=1))
    booked.refresh_from_db()
    assert booked.status == S.ARRIVED


def test_a_change_cannot_be_dated_in_the_future(booked, reception):
    with pytest.raises(InvalidTransition, match="must be in the past"):
        services.mark_arrived(booked, reception, occurred_at=timezone.now() + timedelta(hours=1))
    booked.refresh_from_db()
    assert booked.status == S.BOOKED


# --- the appointment page -----------------------------------------------------------------------


def page(appointment) -> str:
    return f"/appointments/{appointment.pk}/"


def paper(status="arrived", **when) -> dict:
    return {
        "from_paper": "1",
        "to_status": status,
        "happened_on[day]": "11",
        "happened_on[month]": "11",
        "happened_on[year]": "2026",
        "happened_at": "08:40",
        **when,
    }


def test_arrival_entered_from_paper_on_the_appointment_page(client, booked, reception):
    shown = client.get(page(booked)).content.decode()
    assert "Entering an arrival or other change from paper?" in shown
    response = client.post(f"{page(booked)}status/", paper())
    assert response.status_code == 302
    shown = client.get(page(booked)).content.decode()
    assert "11 Nov 2026 08:40" in shown  # when it happened
    assert shown.count("Back-entered") == 2  # the booking made last week, and the arrival
    event = booked.events.get(to_status=S.ARRIVED)
    assert event.back_entered
    assert f"{event.recorded_at:%H:%M}" != "08:40"


@pytest.mark.parametrize(
    "when, message",
    [
        (
            {"happened_on[day]": "", "happened_on[month]": "", "happened_on[year]": ""},
            "Enter the date it happened",
        ),
        ({"happened_at": "11:30"}, "When this happened must be in the past"),
        ({"happened_at": "8 40"}, "must be a real time"),
        ({"happened_on[day]": "3"}, "on or after its last change, 4 Nov 2026 08:40"),
    ],
)
def test_a_bad_time_on_the_paper_form_is_shown_at_the_form(
    client, booked, reception, when, message
):
    response = client.post(f"{page(booked)}status/", paper(**when))
    shown = response.content.decode()
    assert response.status_code == 400
    assert message in shown
    assert "There is a problem" in shown
    assert '<details class="nhsuk-details" id="from-paper" open>' in shown
    booked.refresh_from_db()
    assert booked.status == S.BOOKED


def test_the_paper_form_needs_what_happened(client, booked, reception):
    response = client.post(f"{page(booked)}status/", paper(status=""))
    assert response.status_code == 400
    assert "Choose what happened" in response.content.decode()
