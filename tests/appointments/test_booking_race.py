"""Fifty receptionists press "Book" on the same slot at the same moment, on PostgreSQL."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from steadfast.appointments import services
from steadfast.appointments.models import Appointment, SlotStatus
from steadfast.errors import SlotUnavailable
from tests.factories import PatientFactory, SlotFactory, UserFactory

RACERS = 50


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_threads_racing_for_one_slot_give_exactly_one_booking():
    slot = SlotFactory()
    receptionist = UserFactory(practice=slot.practice)
    patients = [PatientFactory(practice=slot.practice) for _ in range(RACERS)]
    start_line = threading.Barrier(RACERS)

    def race(patient):
        try:
            start_line.wait(timeout=30)
            with scopes_disabled():  # a new thread starts outside any practice scope
                services.book_appointment(slot.pk, patient, receptionist)
            return "booked"
        except SlotUnavailable as exc:
            return str(exc)
        finally:
            connection.close()  # each thread has its own connection; leave none open

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        outcomes = list(pool.map(race, patients))

    assert outcomes.count("booked") == 1
    assert outcomes.count(services.SLOT_GONE) == RACERS - 1
    assert Appointment.objects.filter(slot=slot).count() == 1
    slot.refresh_from_db()
    assert slot.status == SlotStatus.BOOKED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_moving_two_appointments_into_one_slot_at_once_lets_only_one_in():
    target = SlotFactory()
    receptionist = UserFactory(practice=target.practice)
    appointments = [
        services.book_appointment(
            SlotFactory(clinician=target.clinician).pk,
            PatientFactory(practice=target.practice),
            receptionist,
        )
        for _ in range(10)
    ]
    start_line = threading.Barrier(len(appointments))

    def move(appt):
        try:
            start_line.wait(timeout=30)
            with scopes_disabled():
                services.reschedule_appointment(appt, target.pk, receptionist)
            return "moved"
        except SlotUnavailable:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(appointments)) as pool:
        outcomes = list(pool.map(move, appointments))

    assert outcomes.count("moved") == 1
    assert Appointment.objects.filter(slot=target).count() == 1
    # every other appointment is still safely in its own original slot
    assert Appointment.objects.filter(status="booked").count() == len(appointments)
