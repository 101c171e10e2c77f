"""A booking's audit entry, written with the practice's chain head locked by the booking's own
statement (PostgreSQL) or by the audit append (SQLite): the chain stays whole in every case."""

import io

import pytest
from django.core.management import call_command

from steadfast.appointments import services
from steadfast.appointments.models import Appointment
from steadfast.audit.models import AuditEvent, ChainHead
from steadfast.errors import SlotUnavailable
from tests.factories import GPFactory, PatientFactory, SlotFactory, UserFactory

pytestmark = pytest.mark.django_db


def chain_of(practice) -> list[tuple[int, str]]:
    return list(
        AuditEvent.objects.filter(chain=practice.pk).order_by("seq").values_list("seq", "action")
    )


def verify() -> str:
    out = io.StringIO()
    call_command("audit-verify", stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def receptionist(gp):
    return UserFactory(practice=gp.practice, role="receptionist")


def test_a_booking_can_be_the_first_entry_of_its_practices_chain(gp, receptionist):
    patient, slot = PatientFactory(practice=gp.practice), SlotFactory(clinician=gp)
    assert not ChainHead.objects.filter(chain=gp.practice.pk).exists()

    booked = services.book_appointment(slot.pk, patient, receptionist)

    assert Appointment.objects.get(pk=booked.pk).status == "booked"
    assert chain_of(gp.practice) == [(1, "appointment_booked")]
    assert "audit trail intact" in verify()


def test_bookings_follow_one_another_in_the_chain(gp, receptionist):
    patient = PatientFactory(practice=gp.practice)
    for _ in range(3):
        services.book_appointment(SlotFactory(clinician=gp).pk, patient, receptionist)

    assert chain_of(gp.practice) == [(n, "appointment_booked") for n in (1, 2, 3)]
    assert "audit trail intact" in verify()


def test_a_lost_booking_writes_nothing_and_leaves_the_chain_as_it_was(gp, receptionist):
    first, second = PatientFactory(practice=gp.practice), PatientFactory(practice=gp.practice)
    slot = SlotFactory(clinician=gp)
    services.book_appointment(slot.pk, first, receptionist)
    head = ChainHead.objects.values_list("last_seq", "last_hash").get(chain=gp.practice.pk)

    with pytest.raises(SlotUnavailable):
        services.book_appointment(slot.pk, second, receptionist)

    assert Appointment.objects.filter(slot=slot).count() == 1
    assert ChainHead.objects.values_list("last_seq", "last_hash").get(chain=gp.practice.pk) == head
    assert chain_of(gp.practice) == [(1, "appointment_booked")]


def test_bookings_of_two_practices_go_to_their_own_chains(gp, receptionist):
    other_gp = GPFactory()
    other_receptionist = UserFactory(practice=other_gp.practice, role="receptionist")
    services.book_appointment(
        SlotFactory(clinician=gp).pk, PatientFactory(practice=gp.practice), receptionist
    )
    services.book_appointment(
        SlotFactory(clinician=other_gp).pk,
        PatientFactory(practice=other_gp.practice),
        other_receptionist,
    )

    assert chain_of(gp.practice) == [(1, "appointment_booked")]
    assert chain_of(other_gp.practice) == [(1, "appointment_booked")]
    assert "audit trail intact" in verify()
