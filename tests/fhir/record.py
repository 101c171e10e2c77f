"""A patient record with one entry of every kind the API serves, made through the services."""

from datetime import timedelta

from django.utils import timezone

from steadfast.records import services
from tests.records.entries import (
    AMLODIPINE_5MG,
    ANAPHYLAXIS,
    ESSENTIAL_HYPERTENSION,
    INFLUENZA_VACCINATION,
    PDF,
    PENICILLIN,
    concept,
)


def record_every_kind(patient, clinician) -> dict:
    """resource type: the entry behind it. The consultation holds a problem, a blood pressure
    (162/98) and a repeat of amlodipine; the allergy, immunisation and letter stand alone."""
    consultation = services.save_consultation(
        patient,
        clinician,
        services.ConsultationNote(
            "face_to_face",
            history="Headaches for a week <worse in mornings>.",
            plan="Start amlodipine.",
            problems=[services.NewProblem(concept(ESSENTIAL_HYPERTENSION), significance="major")],
            observations=[services.NewObservation("bp", "162", "98")],
            medications=[
                services.NewMedication(
                    concept(AMLODIPINE_5MG), "repeat", "One daily", 28, issues_allowed=6
                )
            ],
        ),
        occurred_at=timezone.now() - timedelta(days=3),
    )
    allergy = services.record_allergy(
        patient,
        clinician,
        concept(PENICILLIN),
        severity="severe",
        certainty="confirmed",
        reaction=concept(ANAPHYLAXIS),
    )
    immunisation = services.record_immunisation(
        patient, clinician, concept(INFLUENZA_VACCINATION), batch="FLU-2026-01"
    )
    document = services.attach_document(
        patient, clinician, title="Discharge letter", kind="letter", content=PDF
    )
    return {
        "Encounter": consultation,
        "Condition": consultation.problems.get(),
        "MedicationRequest": consultation.medications.get(),
        "MedicationStatement": consultation.medications.get(),
        "Observation": consultation.observations.get(kind="bp"),
        "AllergyIntolerance": allergy,
        "Immunization": immunisation,
        "DocumentReference": document,
    }
