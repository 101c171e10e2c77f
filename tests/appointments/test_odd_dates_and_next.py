"""Dates at the ends of the calendar and a `next` that is not a path here: a clear answer,
never a 500, and nothing changed before the request was known to be good."""

import pytest
from django.urls import reverse

from steadfast.appointments import services
from steadfast.appointments.models import AppointmentStatus
from steadfast.audit.models import AuditEvent
from tests.factories import PatientFactory, SlotFactory, force_login_verified

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = "Choose a date between 1 Jan 1900 and 31 Dec 2199; today is shown instead."


@pytest.fixture
def appointment(reception, gp):
    slot = SlotFactory(clinician=gp)
    return services.book_appointment(slot.pk, PatientFactory(practice=gp.practice), reception)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01"])
@pytest.mark.parametrize("page", ["day", "arrivals", "my_list", "reschedule"])
def test_a_date_the_pages_cannot_show_gets_a_clear_message(client, gp, appointment, page, day):
    if page == "my_list":
        force_login_verified(client, gp)
    args = [appointment.pk] if page == "reschedule" else []
    response = client.get(reverse(f"appointments:{page}", args=args), {"date": day})
    assert response.status_code == 200
    assert OUT_OF_RANGE in response.content.decode()


@pytest.mark.parametrize("day", ["1900-01-01", "2199-12-31"])
def test_the_first_and_last_days_of_the_calendar_show(client, reception, day):
    page = client.get(reverse("appointments:day"), {"date": day}).content.decode()
    assert OUT_OF_RANGE not in page
    assert day in page  # the date box holds the day shown


def test_a_date_that_does_not_exist_says_so(client, reception):
    page = client.get(reverse("appointments:day"), {"date": "2026-02-30"}).content.decode()
    assert "That is not a real date, so today is shown instead." in page


BAD_NEXT = [
    "my_list",  # a bare word: redirect() would take it for a view name
    "appointments:day",
    "https://evil.example/",
    "//evil.example/path",
    "javascript:alert(1)",
    "/appointments/\r\nSet-Cookie: a=b",
]


@pytest.mark.parametrize("next_url", BAD_NEXT)
def test_a_next_that_is_not_a_local_path_falls_back_after_a_status_change(
    client, reception, appointment, next_url
):
    url = reverse("appointments:status", args=[appointment.pk])
    response = client.post(url, {"to_status": "arrived", "next": next_url})
    assert response.status_code == 302
    assert response.url == reverse("appointments:detail", args=[appointment.pk])
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.ARRIVED


def test_a_local_next_is_followed_after_a_status_change(client, reception, appointment):
    back = f"{reverse('appointments:arrivals')}?date=2026-11-24"
    url = reverse("appointments:status", args=[appointment.pk])
    response = client.post(url, {"to_status": "arrived", "next": back})
    assert response.url == back


@pytest.mark.parametrize("next_url", BAD_NEXT)
def test_a_next_that_is_not_a_local_path_falls_back_after_break_glass(client, gp, next_url):
    patient = PatientFactory(practice=gp.practice, is_sensitive=True)
    force_login_verified(client, gp)
    url = reverse("audit:break_glass", args=[patient.pk])
    response = client.post(url, {"reason": "Urgent review of results", "next": next_url})
    assert response.status_code == 302
    assert response.url == reverse("patients:detail", args=[patient.pk])
    assert AuditEvent.objects.filter(action="break_glass", patient_id=patient.pk).count() == 1
