"""Booking, cancelling, moving and the day's status changes, through the services."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from steadfast.appointments import services
from steadfast.appointments.models import Appointment, AppointmentStatus, SlotStatus
from steadfast.errors import InvalidTransition, NotPermitted, PatientNotBookable, SlotUnavailable
from tests.factories import PatientFactory, SlotFactory, UserFactory

pytestmark = pytest.mark.django_db
S = AppointmentStatus


@pytest.fixture
def slot():
    return SlotFactory()


@pytest.fixture
def patient(slot):
    return PatientFactory(practice=slot.practice)


@pytest.fixture
def receptionist(slot):
    return UserFactory(practice=slot.practice)


def test_booking_a_free_slot_records_who_booked_it_and_when(slot, patient, receptionist):
    appt = services.book_appointment(slot.pk, patient, receptionist, reason="  Sore throat ")
    slot.refresh_from_db()
    assert slot.status == SlotStatus.BOOKED
    assert appt.status == S.BOOKED
    assert appt.reason == "Sore throat"
    assert appt.booked_by == receptionist
    event = appt.events.get()
    assert (event.to_status, event.actor) == (S.BOOKED, receptionist)
    assert event.occurred_at and event.recorded_at


def test_second_booking_of_same_slot_is_refused(slot, patient, receptionist):
    services.book_appointment(slot.pk, patient, receptionist)
    other = PatientFactory(practice=slot.practice)
    with pytest.raises(SlotUnavailable, match="no longer available"):
        services.book_appointment(slot.pk, other, receptionist)
    assert Appointment.objects.filter(slot=slot).count() == 1


def test_database_refuses_two_live_appointments_in_one_slot(slot, patient, receptionist):
    first = services.book_appointment(slot.pk, patient, receptionist)
    duplicate = Appointment(
        practice=slot.practice,
        slot=slot,
        patient=patient,
        booked_by=receptionist,
        booked_at=first.booked_at,
        status_changed_at=first.booked_at,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_embargoed_slot_cannot_be_booked_until_released(patient, receptionist, slot):
    slot.embargoed_until = timezone.now() + timedelta(hours=1)
    slot.save()
    with pytest.raises(SlotUnavailable):
        services.book_appointment(slot.pk, patient, receptionist)
    slot.embargoed_until = timezone.now() - timedelta(minutes=1)
    slot.save()
    assert services.book_appointment(slot.pk, patient, receptionist).status == S.BOOKED


def test_slot_that_is_over_cannot_be_booked(patient, receptionist):
    past = SlotFactory(
        clinician__practice=patient.practice,
        start=timezone.now() - timedelta(hours=2),
        end=timezone.now() - timedelta(hours=1, minutes=50),
    )
    with pytest.raises(SlotUnavailable):
        services.book_appointment(past.pk, patient, receptionist)


def test_patient_cannot_be_booked_into_another_practices_slot(slot, receptionist):
    stranger = PatientFactory()  # registered at a different practice
    with pytest.raises(NotPermitted):  # not this receptionist's patient
        services.book_appointment(slot.pk, stranger, receptionist)
    their_reception = UserFactory(practice=stranger.practice)
    with pytest.raises(SlotUnavailable):  # nor their practice's slot
        services.book_appointment(slot.pk, stranger, their_reception)
    slot.refresh_from_db()
    assert slot.status == SlotStatus.FREE


@pytest.mark.parametrize("registration", ["deducted", "deceased"])
def test_deducted_or_deceased_patient_cannot_be_booked(slot, receptionist, registration):
    patient = PatientFactory(practice=slot.practice, registration_status=registration)
    with pytest.raises(PatientNotBookable, match=registration):
        services.book_appointment(slot.pk, patient, receptionist)
    slot.refresh_from_db()
    assert slot.status == SlotStatus.FREE


def test_cancelling_frees_the_slot_for_someone_else(slot, patient, receptionist):
    appt = services.book_appointment(slot.pk, patient, receptionist)
    services.cancel_appointment(appt, "patient", "Feeling better", receptionist)
    appt.refresh_from_db()
    assert (appt.status, appt.cancelled_by, appt.cancellation_reason) == (
        S.CANCELLED,
        "patient",
        "Feeling better",
    )
    other = PatientFactory(practice=slot.practice)
    assert services.book_appointment(slot.pk, other, receptionist).patient == other


def test_cancelling_twice_is_refused(slot, patient, receptionist):
    appt = services.book_appointment(slot.pk, patient, receptionist)
    services.cancel_appointment(appt, "practice", "GP off sick", receptionist)
    with pytest.raises(InvalidTransition):
        services.cancel_appointment(appt, "practice", "again", receptionist)


def test_reschedule_moves_the_appointment_and_frees_the_old_slot(slot, patient, receptionist):
    appt = services.book_appointment(slot.pk, patient, receptionist)
    later = SlotFactory(clinician=slot.clinician)
    services.reschedule_appointment(appt, later.pk, receptionist)
    appt.refresh_from_db()
    slot.refresh_from_db()
    later.refresh_from_db()
    assert appt.slot_id == later.pk
    assert (slot.status, later.status) == (SlotStatus.FREE, SlotStatus.BOOKED)
    assert "Moved from slot" in appt.events.last().note


def test_reschedule_into_a_taken_slot_changes_nothing(slot, patient, receptionist):
    appt = services.book_appointment(slot.pk, patient, receptionist)
    taken = SlotFactory(clinician=slot.clinician)
    services.book_appointment(taken.pk, PatientFactory(practice=slot.practice), receptionist)
    with pytest.raises(SlotUnavailable):
        services.reschedule_appointment(appt, taken.pk, receptionist)
    appt.refresh_from_db()
    slot.refresh_from_db()
    assert appt.slot_id == slot.pk and slot.status == SlotStatus.BOOKED


def test_a_day_runs_booked_arrived_in_progress_finished(slot, patient, receptionist):
    appt = services.book_appointment(slot.pk, patient, receptionist)
    gp = slot.clinician
    services.mark_arrived(appt, receptionist)
    services.start_appointment(appt, gp)
    services.finish_appointment(appt, gp)
    appt.refresh_from_db()
    assert appt.status == S.FINISHED
    history = [(e.from_status, e.to_status, e.actor) for e in appt.events.all()]
    assert history == [
        ("", S.BOOKED, receptionist),
        (S.BOOKED, S.ARRIVED, receptionist),
        (S.ARRIVED, S.IN_PROGRESS, gp),
        (S.IN_PROGRESS, S.FINISHED, gp),
    ]


def test_did_not_attend_can_be_undone_but_finished_cannot_become_dna(slot, patient, receptionist):
    appt = services.book_appointment(slot.pk, patient, receptionist)
    services.mark_did_not_attend(appt, receptionist)
    services.change_status(appt, S.BOOKED, receptionist)
    services.start_appointment(appt, slot.clinician)
    services.finish_appointment(appt, slot.clinician)
    with pytest.raises(InvalidTransition, match="cannot become did not attend"):
        services.mark_did_not_attend(appt, receptionist)


def test_status_change_keeps_when_it_really_happened(slot, patient, receptionist, frozen_clock):
    """Arrivals noted on paper during an outage are entered later with their true time."""
    appt = services.book_appointment(slot.pk, patient, receptionist)
    on_paper = timezone.now() + timedelta(minutes=30)
    frozen_clock.move_to(on_paper + timedelta(hours=3))
    services.change_status(appt, S.ARRIVED, receptionist, occurred_at=on_paper)
    event = appt.events.get(to_status=S.ARRIVED)
    assert event.occurred_at == on_paper
    assert event.recorded_at > on_paper
    assert event.back_entered
