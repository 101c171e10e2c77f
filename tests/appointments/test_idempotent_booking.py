"""A booking retried (after a dropped connection, a failover, a second press) is made once.

The client makes a key for each booking it means; the database holds one appointment per key and
practice, and the retry gets the first appointment back.
"""

import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django_scopes import scopes_disabled

from steadfast.appointments import services
from steadfast.appointments.models import Appointment, Slot, SlotStatus, booking_key
from steadfast.audit.models import AuditEvent
from steadfast.errors import BookingKeyReused, SlotUnavailable
from tests.factories import PatientFactory, SlotFactory, UserFactory, london, tomorrow

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def key() -> str:
    return booking_key(uuid.uuid4())


def slot_at(gp, hour: int, minute: int = 0):
    start = london(tomorrow(), hour, minute)
    return SlotFactory(clinician=gp, start=start, end=start + timedelta(minutes=10))


@pytest.fixture
def slot(gp):
    return slot_at(gp, 17)  # after the factory's own slots (08:00-16:15): never the same start


@pytest.fixture
def patient(gp):
    return PatientFactory(practice=gp.practice, family_name="Quigley")


def test_retried_booking_returns_the_first_appointment_and_books_nothing_more(
    slot, patient, reception
):
    booking = key()
    first = services.book_appointment(slot.pk, patient, reception, idempotency_key=booking)
    again = services.book_appointment(slot.pk, patient, reception, idempotency_key=booking)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.pk == first.pk
    assert Appointment.objects.filter(patient=patient).count() == 1
    assert AuditEvent.objects.filter(action="appointment_booked").count() == 1


def test_retry_naming_another_slot_still_returns_the_first_and_leaves_that_slot_free(
    slot, patient, reception, gp
):
    other = SlotFactory(clinician=gp)
    booking = key()
    first = services.book_appointment(slot.pk, patient, reception, idempotency_key=booking)
    again = services.book_appointment(other.pk, patient, reception, idempotency_key=booking)
    assert again.pk == first.pk
    other.refresh_from_db()
    assert other.status == SlotStatus.FREE
    assert not Appointment.objects.filter(slot=other).exists()


def test_a_key_used_for_one_patient_cannot_book_another(slot, patient, reception, gp):
    booking = key()
    services.book_appointment(slot.pk, patient, reception, idempotency_key=booking)
    with pytest.raises(BookingKeyReused):
        services.book_appointment(
            SlotFactory(clinician=gp).pk,
            PatientFactory(practice=gp.practice),
            reception,
            idempotency_key=booking,
        )


def test_without_a_key_a_second_booking_of_a_taken_slot_is_refused_as_before(
    slot, patient, reception
):
    services.book_appointment(slot.pk, patient, reception)
    with pytest.raises(SlotUnavailable):
        services.book_appointment(slot.pk, patient, reception)


def test_the_database_refuses_two_appointments_with_one_key_in_a_practice(
    slot, patient, reception, gp
):
    booking = key()
    first = services.book_appointment(slot.pk, patient, reception, idempotency_key=booking)
    copy = Appointment(
        practice=first.practice,
        slot=SlotFactory(clinician=gp),
        patient=patient,
        booked_by=reception,
        booked_at=first.booked_at,
        status_changed_at=first.booked_at,
        idempotency_key=booking,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


def test_the_same_key_in_another_practice_is_another_booking(slot, patient, reception):
    booking = key()
    services.book_appointment(slot.pk, patient, reception, idempotency_key=booking)
    elsewhere = SlotFactory()
    theirs = services.book_appointment(
        elsewhere.pk,
        PatientFactory(practice=elsewhere.practice),
        UserFactory(practice=elsewhere.practice),
        idempotency_key=booking,
    )
    assert theirs.replayed is False


def book_url(slot) -> str:
    return reverse("appointments:book", args=[slot.pk])


def keys_on(page: str) -> list[str]:
    return re.findall(r'name="idempotency_key" value="([0-9a-f-]{36})"', page)


def test_every_booking_form_carries_its_own_key(client, reception, gp, slot, patient):
    booking_page = client.get(book_url(slot), {"patient": patient.pk}).text
    assert len(keys_on(booking_page)) == 1
    slot_at(gp, 17, 10)
    day = client.get(
        reverse("appointments:day"), {"date": tomorrow().isoformat(), "patient": patient.pk}
    ).text
    in_place = keys_on(day)
    assert len(in_place) == 2 and len(set(in_place)) == 2  # one per Book button


def test_booking_page_sent_twice_books_once_and_says_booked_both_times(
    client, reception, slot, patient
):
    form = {"patient": patient.pk, "reason": "Cough", "idempotency_key": uuid.uuid4()}
    for _ in range(2):
        answer = client.post(book_url(slot), form, follow=True).text
        assert "Booked QUIGLEY" in answer
        assert "no longer available" not in answer
    assert Appointment.objects.filter(slot=slot).count() == 1


def test_book_button_pressed_again_after_an_error_books_once(client, reception, slot, patient):
    form = {"patient": patient.pk, "idempotency_key": uuid.uuid4()}
    answers = [client.post(book_url(slot), form, headers=HTMX).text for _ in range(2)]
    assert all("Booked QUIGLEY" in a and "Not booked" not in a for a in answers)
    assert Appointment.objects.filter(slot=slot).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_copies_of_one_booking_at_once_make_one_appointment():
    slot = SlotFactory()
    spare = [SlotFactory(clinician=slot.clinician) for _ in range(3)]
    receptionist = UserFactory(practice=slot.practice)
    patient = PatientFactory(practice=slot.practice)
    booking = key()
    copies = 20
    start_line = threading.Barrier(copies)

    def send(n):
        try:
            start_line.wait(timeout=30)
            target = slot if n % 2 else spare[n % 3]  # a retry may even name another slot
            with scopes_disabled():
                booked = services.book_appointment(
                    target.pk, patient, receptionist, idempotency_key=booking
                )
            return booked.pk
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=copies) as pool:
        answers = set(pool.map(send, range(copies)))

    assert len(answers) == 1
    assert Appointment.objects.filter(patient=patient).count() == 1
    assert Appointment.objects.get().pk in answers
    slots = Slot.objects.filter(pk__in=[s.pk for s in (slot, *spare)])
    assert slots.filter(status=SlotStatus.BOOKED).count() == 1
