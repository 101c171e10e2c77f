"""The appointment book through HTTP, as reception and clinicians use it."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from steadfast.accounts.models import Role
from steadfast.appointments import services
from steadfast.appointments.models import Appointment, AppointmentStatus, SlotStatus
from tests.factories import (
    GPFactory,
    PatientFactory,
    SlotFactory,
    UserFactory,
    force_login_verified,
    london,
    tomorrow,
)

pytestmark = pytest.mark.django_db


def day_url(day=None) -> str:
    return f"{reverse('appointments:day')}?date={(day or tomorrow()).isoformat()}"


def book_url(slot) -> str:
    return reverse("appointments:book", args=[slot.pk])


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(reverse("appointments:day"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_day_view_shows_each_clinician_with_free_and_booked_slots(client, reception, gp):
    free, taken = SlotFactory(clinician=gp), SlotFactory(clinician=gp)
    patient = PatientFactory(practice=gp.practice, family_name="Featherstonehaugh")
    services.book_appointment(taken.pk, patient, reception)
    page = client.get(day_url()).content.decode()
    assert "Dr " in page and "Okafor" in page
    assert book_url(free) in page
    assert book_url(taken) not in page
    assert "FEATHERSTONEHAUGH" in page


def test_day_view_runs_the_same_number_of_queries_however_full_the_day(client, reception, gp):
    def queries_for_day_with(n_slots, day):
        for i in range(n_slots):
            start = london(day, 8) + timedelta(minutes=10 * i)
            slot = SlotFactory(clinician=gp, start=start, end=start + timedelta(minutes=10))
            if i % 2:
                services.book_appointment(slot.pk, PatientFactory(practice=gp.practice), reception)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(day_url(day)).status_code == 200
        return len(ctx.captured_queries)

    small = queries_for_day_with(4, tomorrow() + timedelta(days=1))
    large = queries_for_day_with(40, tomorrow() + timedelta(days=2))
    assert small == large


def test_reception_books_a_patient_into_a_free_slot(client, reception, gp):
    slot = SlotFactory(clinician=gp)
    patient = PatientFactory(practice=gp.practice, family_name="Quigley")
    search = client.get(book_url(slot), {"q": "quig"}).content.decode()
    assert "QUIGLEY" in search
    response = client.post(book_url(slot), {"patient": patient.pk, "reason": "Cough"}, follow=True)
    assert "Booked QUIGLEY" in response.content.decode()
    appt = Appointment.objects.get(slot=slot)
    assert (appt.patient, appt.booked_by, appt.reason) == (patient, reception, "Cough")


def test_booking_a_slot_someone_else_just_took_says_so(client, reception, gp):
    slot = SlotFactory(clinician=gp)
    services.book_appointment(slot.pk, PatientFactory(practice=gp.practice), reception)
    late = PatientFactory(practice=gp.practice)
    response = client.post(book_url(slot), {"patient": late.pk}, follow=True)
    assert response.status_code == 200
    assert "no longer available" in response.content.decode()
    assert Appointment.objects.filter(slot=slot).count() == 1


@pytest.mark.parametrize(
    "patient_value", ["not-a-uuid", "", "00000000-0000-0000-0000-000000000000"]
)
def test_booking_with_a_bad_patient_never_errors_or_books(client, reception, gp, patient_value):
    slot = SlotFactory(clinician=gp)
    response = client.post(book_url(slot), {"patient": patient_value})
    assert response.status_code in (200, 404)
    slot.refresh_from_db()
    assert slot.status == SlotStatus.FREE


def test_unknown_slot_or_appointment_is_not_found(client, reception):
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.get(f"/appointments/slots/{missing}/book/").status_code == 404
    assert client.get(f"/appointments/{missing}/").status_code == 404
    assert client.get("/appointments/?date=not-a-date").status_code == 200


def test_another_practices_appointment_is_invisible(client, reception):
    elsewhere = SlotFactory()  # another practice
    appt = services.book_appointment(
        elsewhere.pk,
        PatientFactory(practice=elsewhere.practice),
        UserFactory(practice=elsewhere.practice),
    )
    assert client.get(reverse("appointments:detail", args=[appt.pk])).status_code == 404
    assert client.get(book_url(elsewhere)).status_code == 404


def test_cancel_needs_a_reason_and_then_frees_the_slot(client, reception, gp):
    slot = SlotFactory(clinician=gp)
    appt = services.book_appointment(slot.pk, PatientFactory(practice=gp.practice), reception)
    url = reverse("appointments:cancel", args=[appt.pk])
    refused = client.post(url, {"cancelled_by": "patient", "reason": ""})
    assert refused.status_code == 400
    assert "Enter the reason for cancelling" in refused.content.decode()
    done = client.post(url, {"cancelled_by": "patient", "reason": "Away"}, follow=True)
    assert "is free again" in done.content.decode()
    slot.refresh_from_db()
    assert slot.status == SlotStatus.FREE
    assert book_url(slot) in done.content.decode()


def test_reschedule_offers_free_slots_and_moves_the_appointment(client, reception, gp):
    slot, later = SlotFactory(clinician=gp), SlotFactory(clinician=gp)
    appt = services.book_appointment(slot.pk, PatientFactory(practice=gp.practice), reception)
    url = reverse("appointments:reschedule", args=[appt.pk])
    page = client.get(url, {"date": tomorrow().isoformat()}).content.decode()
    assert str(later.pk) in page and str(slot.pk) not in page
    client.post(url, {"slot": later.pk})
    appt.refresh_from_db()
    assert appt.slot == later


def test_arrivals_list_marks_a_patient_arrived_in_place(client, reception, gp):
    now = timezone.now()
    slot = SlotFactory(
        clinician=gp, start=now + timedelta(minutes=5), end=now + timedelta(minutes=15)
    )
    appt = services.book_appointment(
        slot.pk, PatientFactory(practice=gp.practice, family_name="Ng"), reception
    )
    page = client.get(reverse("appointments:arrivals")).content.decode()
    assert "NG," in page
    row = client.post(
        reverse("appointments:status", args=[appt.pk]),
        {"to_status": "arrived", "row": "arrivals"},
        HTTP_HX_REQUEST="true",
    )
    assert row.status_code == 200
    assert "<tr" in row.content.decode() and "Arrived" in row.content.decode()
    appt.refresh_from_db()
    assert appt.status == AppointmentStatus.ARRIVED


def test_every_arrivals_button_works_with_the_security_token_its_page_gave(reception, gp):
    now = timezone.now()
    booked = []
    for n, name in enumerate(["Ng", "Oduya", "Price"]):
        start = now + timedelta(minutes=5 + 10 * n)
        slot = SlotFactory(clinician=gp, start=start, end=start + timedelta(minutes=10))
        patient = PatientFactory(practice=gp.practice, family_name=name)
        booked.append(services.book_appointment(slot.pk, patient, reception))
    browser = Client(enforce_csrf_checks=True)  # as a browser is checked
    browser.force_login(reception)
    page = browser.get(reverse("appointments:arrivals")).content.decode()

    for appt in booked:
        row = page[page.index(f'id="row-{appt.pk}"') :]
        form = row[: row.index("</form>")]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]
        answer = browser.post(
            reverse("appointments:status", args=[appt.pk]),
            {"csrfmiddlewaretoken": token, "to_status": "arrived", "row": "arrivals"},
            HTTP_HX_REQUEST="true",
        )
        assert answer.status_code == 200
        assert f'Undo<span class="nhsuk-u-visually-hidden"> {appt.patient.listing_name}' in (
            answer.content.decode()
        )
    assert {a.status for a in Appointment.objects.filter(pk__in=[a.pk for a in booked])} == {
        AppointmentStatus.ARRIVED
    }


def test_clinician_sees_only_their_own_list(client, gp):
    now = timezone.now()
    other_gp = GPFactory(practice=gp.practice)
    reception = UserFactory(practice=gp.practice)
    mine = SlotFactory(
        clinician=gp, start=now + timedelta(minutes=5), end=now + timedelta(minutes=15)
    )
    theirs = SlotFactory(clinician=other_gp, start=mine.start, end=mine.end)
    services.book_appointment(
        mine.pk, PatientFactory(practice=gp.practice, family_name="Mine"), reception
    )
    services.book_appointment(
        theirs.pk, PatientFactory(practice=gp.practice, family_name="Theirs"), reception
    )
    force_login_verified(client, gp)
    page = client.get(reverse("appointments:my_list")).content.decode()
    assert "MINE," in page and "THEIRS," not in page


@pytest.mark.parametrize(
    ("role", "url_name", "allowed"),
    [
        (Role.RECEPTIONIST, "appointments:day", True),
        (Role.RECEPTIONIST, "appointments:my_list", False),
        (Role.GP, "appointments:my_list", True),
        (Role.ADMIN, "appointments:day", False),
        (Role.ADMIN, "patients:search", False),
        (Role.GP, "patients:register", False),
        (Role.PRACTICE_MANAGER, "patients:register", True),
    ],
)
def test_pages_are_gated_by_role(client, gp, role, url_name, allowed):
    force_login_verified(client, UserFactory(practice=gp.practice, role=role))
    status = client.get(reverse(url_name)).status_code
    assert (status == 200) is allowed
    if not allowed:
        assert status == 403
