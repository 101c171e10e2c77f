"""Booking a chosen patient from the day view: a Book button in each free slot, answered there."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from steadfast.accounts.models import Role
from steadfast.appointments import services
from steadfast.appointments.models import Appointment, SlotStatus
from steadfast.audit.models import AuditEvent, Outcome
from steadfast.patients.models import RegistrationStatus
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
HTMX = {"HX-Request": "true"}


@pytest.fixture
def patient(gp):
    return PatientFactory(practice=gp.practice, family_name="Quigley", given_name="Rosa")


def slot_at(gp, hour: int, minute: int = 0):
    start = london(tomorrow(), hour, minute)
    return SlotFactory(clinician=gp, start=start, end=start + timedelta(minutes=10))


def booking_day(client, patient) -> str:
    day = tomorrow().isoformat()
    return client.get(reverse("appointments:day"), {"date": day, "patient": patient.pk}).text


def book_in_place(client, slot, patient, reason: str = ""):
    url = reverse("appointments:book", args=[slot.pk])
    return client.post(url, {"patient": patient.pk, "reason": reason}, headers=HTMX)


def book_buttons(page: str) -> list[str]:
    """Slot ids of the Book buttons on a page, in page order."""
    return re.findall(r'hx-post="/appointments/slots/([0-9a-f-]{36})/book/"', page)


def test_day_view_for_a_patient_offers_book_in_each_free_slot_only(client, reception, gp, patient):
    free, taken = slot_at(gp, 9), slot_at(gp, 9, 10)
    embargoed = slot_at(gp, 9, 20)
    embargoed.embargoed_until = london(tomorrow(), 8)
    embargoed.save()
    services.book_appointment(taken.pk, PatientFactory(practice=gp.practice), reception)

    page = booking_day(client, patient)

    assert "Booking for" in page and "QUIGLEY, Rosa" in page
    assert book_buttons(page) == [str(free.pk)]
    assert 'aria-label="Book QUIGLEY, Rosa' in page
    assert f"patient={patient.pk}" in page.split('rel="next"')[0]  # the day links keep them


def test_the_plain_day_view_has_no_book_buttons(client, reception, gp):
    slot_at(gp, 9)
    page = client.get(reverse("appointments:day"), {"date": tomorrow().isoformat()}).text
    assert "Booking for" not in page and book_buttons(page) == []


def test_without_javascript_book_opens_the_booking_page_with_the_patient(
    client, reception, gp, patient
):
    slot = slot_at(gp, 9)
    page = booking_day(client, patient)
    form = re.search(r'<form class="sf-book-button" method="(\w+)" action="([^"]+)"', page)
    assert form.groups() == ("get", reverse("appointments:book", args=[slot.pk]))
    booking_page = client.get(form[2], {"patient": patient.pk}).text
    assert "QUIGLEY, Rosa" in booking_page and "Book appointment" in booking_page


def test_book_in_place_books_and_answers_with_the_booked_cell(client, reception, gp, patient):
    slot = slot_at(gp, 9)
    response = book_in_place(client, slot, patient, reason="Sore throat")

    assert response.status_code == 200
    cell, _, rest = response.text.partition("</td>")
    assert f'id="slot-{slot.pk}"' in cell and "QUIGLEY, Rosa" in cell and "Booked" in cell
    assert f"Booked QUIGLEY, Rosa with {gp.display_name} at 09:00" in rest
    assert 'id="booking-for" class="sf-booking-for sf-booking-for--done"' in rest
    appt_url = reverse("appointments:detail", args=[Appointment.objects.get(slot=slot).pk])
    assert f'href="{appt_url}">View the appointment</a>' in rest
    appt = Appointment.objects.get(slot=slot)
    assert (appt.patient, appt.booked_by, appt.reason) == (patient, reception, "Sore throat")
    # The confirmation was given in place; it does not wait for the next page as well.
    assert "Booked QUIGLEY" not in client.get(reverse("appointments:day")).text


def test_a_slot_just_taken_says_so_and_offers_the_nearest_free_slots(
    client, reception, gp, patient
):
    other_gp = GPFactory(practice=gp.practice, last_name="Whitlock")
    earlier = slot_at(gp, 8, 40)
    wanted = slot_at(gp, 9)
    same_time = slot_at(other_gp, 9)
    later = [slot_at(gp, 9 + i // 6, 10 * (i % 6)) for i in range(1, 7)]
    services.book_appointment(wanted.pk, PatientFactory(practice=gp.practice), reception)

    response = book_in_place(client, wanted, patient)

    assert response.status_code == 200
    cell, _, rest = response.text.partition("</td>")
    assert "Booked" in cell and "QUIGLEY" not in cell  # the cell shows who has it now
    assert "That slot is no longer available" in rest
    assert "Free slots nearest 09:00" in rest
    offered = book_buttons(rest)
    assert offered == [str(s.pk) for s in [same_time, *later[:5]]]
    assert str(earlier.pk) not in offered
    assert Appointment.objects.filter(patient=patient).count() == 0


def test_when_the_rest_of_the_day_is_full_earlier_slots_are_offered(client, reception, gp, patient):
    earlier = [slot_at(gp, 8, 10 * i) for i in range(3)]
    wanted = slot_at(gp, 9)
    services.book_appointment(wanted.pk, PatientFactory(practice=gp.practice), reception)
    rest = book_in_place(client, wanted, patient).text.partition("</td>")[2]
    assert book_buttons(rest) == [str(s.pk) for s in earlier]


def test_too_few_later_slots_are_made_up_with_the_latest_earlier_ones(
    client, reception, gp, patient
):
    earlier = [slot_at(gp, 8, 10 * i) for i in range(6)]  # 08:00 to 08:50
    wanted = slot_at(gp, 9)
    later = [slot_at(gp, 9, 10), slot_at(gp, 9, 20)]
    services.book_appointment(wanted.pk, PatientFactory(practice=gp.practice), reception)
    rest = book_in_place(client, wanted, patient).text.partition("</td>")[2]
    assert book_buttons(rest) == [str(s.pk) for s in [*earlier[2:], *later]]


def test_when_the_day_is_full_it_says_none_are_left(client, reception, gp, patient):
    wanted = slot_at(gp, 9)
    services.book_appointment(wanted.pk, PatientFactory(practice=gp.practice), reception)
    rest = book_in_place(client, wanted, patient).text
    assert "No free slots are left on" in rest and book_buttons(rest) == []


def test_a_patient_who_cannot_be_booked_is_told_why_in_place(client, reception, gp, patient):
    patient.registration_status = RegistrationStatus.DECEASED
    patient.save()
    slot = slot_at(gp, 9)
    response = book_in_place(client, slot, patient)
    assert response.status_code == 200
    assert "cannot be booked" in response.text
    slot.refresh_from_db()
    assert slot.status == SlotStatus.FREE


def test_a_reason_too_long_is_refused_in_place_and_books_nothing(client, reception, gp, patient):
    slot = slot_at(gp, 9)
    response = book_in_place(client, slot, patient, reason="x" * 501)
    assert response.status_code == 200
    assert "at most 500 characters" in response.text
    assert not Appointment.objects.filter(slot=slot).exists()


def test_another_practices_patient_is_neither_offered_nor_booked(client, reception, gp):
    stranger = PatientFactory()  # another practice
    slot = slot_at(gp, 9)
    assert "Booking for" not in booking_day(client, stranger)
    assert book_in_place(client, slot, stranger).status_code == 404
    assert not Appointment.objects.filter(slot=slot).exists()


def test_opening_the_book_for_a_patient_is_audited(client, reception, gp, patient):
    booking_day(client, patient)
    assert AuditEvent.objects.filter(
        action="view_patient_for_booking", patient_id=patient.pk, user_id=reception.pk
    ).exists()


def test_a_sensitive_record_asks_for_a_break_glass_reason_before_booking(
    client, reception, gp, patient
):
    patient.is_sensitive = True
    patient.save()
    slot_at(gp, 9)
    response = client.get(
        reverse("appointments:day"), {"date": tomorrow().isoformat(), "patient": patient.pk}
    )
    assert response.status_code == 302
    assert response.url.startswith(reverse("audit:break_glass", args=[patient.pk]))
    assert AuditEvent.objects.filter(
        action="view_patient_for_booking", patient_id=patient.pk, outcome=Outcome.DENIED
    ).exists()


def test_a_role_that_cannot_book_is_refused_in_place_too(client, gp, patient):
    slot = slot_at(gp, 9)
    force_login_verified(client, UserFactory(practice=gp.practice, role=Role.ADMIN))
    assert book_in_place(client, slot, patient).status_code == 403
    assert not Appointment.objects.filter(slot=slot).exists()


def test_the_patient_page_starts_booking_for_that_patient(client, reception, patient):
    page = client.get(reverse("patients:detail", args=[patient.pk])).text
    assert f'href="{reverse("appointments:day")}?patient={patient.pk}"' in page
