"""A small practice ready for a downtime pack: bookings tomorrow, records, a restricted patient."""

import base64
import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from steadfast.accounts.models import Role
from steadfast.appointments import services as appointments
from steadfast.continuity import services
from steadfast.continuity.crypto import Sealed, unseal
from steadfast.patients.models import RegistrationStatus
from steadfast.records import services as records
from tests.factories import GPFactory, PatientFactory, SlotFactory, UserFactory, london, tomorrow
from tests.records.entries import (
    AMLODIPINE_5MG,
    ANAPHYLAXIS,
    CARES_FOR_A_RELATIVE,
    ESSENTIAL_HYPERTENSION,
    PENICILLIN,
    concept,
)

PASSPHRASE = "kettle orchard lantern 42"


@dataclass
class Clinic:
    practice: object
    gp: object
    reception: object
    booked: object  # allergic to penicillin, with a record
    restricted: object  # booked too, but a sensitive record
    unbooked: object  # no known allergies recorded
    deducted: object


@pytest.fixture
def clinic(db) -> Clinic:
    gp = GPFactory(first_name="Ada", last_name="Okonkwo")
    practice = gp.practice
    reception = UserFactory(practice=practice, role=Role.RECEPTIONIST)
    booked = PatientFactory(
        practice=practice, given_name="Imogen", family_name="Fairweather", phone="0113 496 0000"
    )
    restricted = PatientFactory(practice=practice, given_name="Quentin", family_name="Hollowell")
    unbooked = PatientFactory(practice=practice, given_name="Winifred", family_name="Ashdown")
    deducted = PatientFactory(
        practice=practice,
        given_name="Barnaby",
        family_name="Gone",
        registration_status=RegistrationStatus.DEDUCTED,
    )
    records.record_allergy(
        booked,
        gp,
        concept(PENICILLIN),
        reaction=concept(ANAPHYLAXIS),
        severity="severe",
        certainty="confirmed",
    )
    records.prescribe(
        booked,
        gp,
        records.NewMedication(concept(AMLODIPINE_5MG), "repeat", "One daily", 28, issues_allowed=6),
    )
    records.add_problem(booked, gp, records.NewProblem(concept(ESSENTIAL_HYPERTENSION)))
    records.add_flag(booked, gp, concept(CARES_FOR_A_RELATIVE), note="Looks after her mother")
    for days_ago, history in [
        (40, "Dizzy spells"),
        (30, "Ankle swelling"),
        (20, "Cough"),
        (10, "Rash"),
    ]:
        records.save_consultation(
            booked,
            gp,
            records.ConsultationNote("face_to_face", history=history),
            occurred_at=timezone.now() - timedelta(days=days_ago),
        )
    records.record_observation(
        booked,
        gp,
        records.NewObservation("bp", "150", "95"),
        occurred_at=timezone.now() - timedelta(days=5),
    )
    records.record_observation(booked, gp, records.NewObservation("bp", "142", "88"))
    records.record_no_known_allergies(unbooked, gp)
    for hour, patient, reason in [
        (9, booked, "Blood pressure review"),
        (10, restricted, "Private"),
    ]:
        slot = SlotFactory(clinician=gp, start=london(tomorrow(), hour))
        appointments.book_appointment(slot.pk, patient, reception, reason=reason)
    restricted.is_sensitive = True  # restricted after booking (booking it now needs a reason)
    restricted.save()
    manager = UserFactory(practice=practice, role=Role.PRACTICE_MANAGER)
    services.set_downtime_passphrase(practice, PASSPHRASE, manager)
    return Clinic(practice, gp, reception, booked, restricted, unbooked, deducted)


def opened(html: bytes, passphrase: str = PASSPHRASE) -> dict:
    """Decrypt a pack as its page does (the same header bytes as associated data)."""
    text = html.decode("utf-8")
    header = _element(text, "sf-header")
    fields = json.loads(_element(text, "sf-seal"))
    sealed = Sealed(
        salt=_b64(fields["salt"]),
        nonce=_b64(fields["nonce"]),
        iterations=fields["iterations"],
        ciphertext=_b64(_element(text, "sf-data")),
    )
    return json.loads(unseal(sealed, passphrase, header.encode("ascii")))


def _element(text: str, element_id: str) -> str:
    start = text.index(">", text.index(f'id="{element_id}"')) + 1
    return text[start : text.index("</script>", start)].strip()


def _b64(value: str) -> bytes:
    return base64.b64decode(value)
