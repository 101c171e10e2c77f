"""Following `/fhir/_history` in tests, and a patient record touching every replicated type."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from steadfast.accounts.models import Role
from steadfast.appointments import services as book
from steadfast.patients import services as register
from steadfast.records import services as records
from steadfast.records.models import Concept
from tests.factories import UserFactory
from tests.fhir.helpers import FHIRClient
from tests.records.entries import (
    AMLODIPINE_5MG,
    ANAPHYLAXIS,
    CARES_FOR_A_RELATIVE,
    ESSENTIAL_HYPERTENSION,
    INFLUENZA_VACCINATION,
    PDF,
    PENICILLIN,
    concept,
)

NO_KNOWN_DRUG_ALLERGY = "409137002"  # in the shipped subset (records/terminology/snomed_gp.tsv)


class Follower:
    """A FHIR client that follows the history as a node does: it keeps the last `next` link."""

    def __init__(self, client, token: str, count: int = 500) -> None:
        self.api = FHIRClient(client, token=token)
        self.next = f"_history?_count={count}"
        self.count = count

    def page(self) -> list[dict]:
        response = self.api.get(self.next)
        assert response.status_code == 200, response.content[:500]
        bundle = response.fhir
        assert bundle["type"] == "history"
        self.next = next(link["url"] for link in bundle["link"] if link["relation"] == "next")
        self.next = self.next.split("/fhir/", 1)[1]
        return bundle.get("entry", [])

    def catch_up(self) -> list[dict]:
        entries = []
        while True:
            page = self.page()
            entries += page
            if len(page) < self.count:
                return entries


def keys(entries: list[dict]) -> list[tuple[str, str]]:
    """(method, url) of each entry."""
    return [(e["request"]["method"], e["request"]["url"]) for e in entries]


def urls(entries: list[dict]) -> set[str]:
    return {e["request"]["url"] for e in entries}


def full_record(patient, gp, receptionist, slot) -> dict:
    """Write through every service that changes what the feed serves; the rows, by kind."""
    appointment = book.book_appointment(slot.pk, patient, receptionist, reason="Blood pressure")
    appointment = book.mark_arrived(appointment, receptionist)
    consultation = records.save_consultation(
        patient,
        gp,
        records.ConsultationNote(
            "face_to_face",
            history="Headaches.",
            plan="Review in two weeks.",
            problems=[records.NewProblem(concept(ESSENTIAL_HYPERTENSION))],
            observations=[records.NewObservation("bp", Decimal("150"), Decimal("95"))],
        ),
        appointment=appointment,
    )
    consultation = records.edit_consultation(
        consultation,
        gp,
        reason="Typed in the wrong record",
        expected_version=consultation.version,
        history="Headaches, worse in the morning.",
        plan="Review in two weeks.",
    )
    medication = records.prescribe(
        patient,
        gp,
        records.NewMedication(
            concept(AMLODIPINE_5MG),
            "repeat",
            "One daily",
            28,
            issues_allowed=6,
            review_date=timezone.localdate() + timedelta(days=180),
        ),
    )
    records.issue_repeat(medication, gp)
    no_known_allergies = records.record_no_known_allergies(
        patient, gp, concept=concept(NO_KNOWN_DRUG_ALLERGY)
    )
    allergy = records.record_allergy(
        patient,
        gp,
        concept(PENICILLIN),
        severity="severe",
        certainty="confirmed",
        reaction=concept(ANAPHYLAXIS),
        note="Collapsed in 2001",
    )
    immunisation = records.record_immunisation(
        patient, gp, concept(INFLUENZA_VACCINATION), batch="AB1234"
    )
    document = records.attach_document(
        patient, gp, title="Discharge letter", kind="letter", content=PDF
    )
    flag = records.add_flag(patient, gp, concept(CARES_FOR_A_RELATIVE), note="Her mother")
    manager = UserFactory(practice=patient.practice, role=Role.PRACTICE_MANAGER)
    register.mark_sensitive(patient, True, manager)
    return {
        "appointment": appointment,
        "consultation": consultation,
        "medication": medication,
        "allergy": allergy,
        "immunisation": immunisation,
        "document": document,
        "no_known_allergies": no_known_allergies,
        "flag": flag,
    }


def concept_here(field, system, code, term):
    return Concept.objects.get(system=system, code=code)
