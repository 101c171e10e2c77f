"""Record entries for tests, made through the services as a clinician would make them."""

from steadfast.records import services
from steadfast.records.models import Concept

# Every code here is in the shipped subset (steadfast/records/terminology/*.tsv).
ESSENTIAL_HYPERTENSION = "59621000"
TYPE_2_DIABETES = "44054006"
AMLODIPINE_5MG = "319283006"
AMOXICILLIN_500MG = "323510009"
METFORMIN_500MG = "325278007"
PENICILLIN = "764146007"
ANAPHYLAXIS = "39579001"
INFLUENZA_VACCINATION = "86198006"
CARES_FOR_A_RELATIVE = "302767002"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def concept(code: str) -> Concept:
    return Concept.objects.get(code=code)


def record_entries(patient, clinician) -> dict:
    """A consultation, a repeat medicine and a document; returns their ids by URL kwarg."""
    consultation = services.save_consultation(
        patient,
        clinician,
        services.ConsultationNote("face_to_face", history="Headaches for a week."),
    )
    medication = services.prescribe(
        patient,
        clinician,
        services.NewMedication(
            concept(AMLODIPINE_5MG), "repeat", "One daily", 28, issues_allowed=6
        ),
    )
    document = services.attach_document(
        patient, clinician, title="Discharge letter", kind="letter", content=PDF
    )
    return {
        "consultation_id": consultation.pk,
        "medication_id": medication.pk,
        "document_id": document.pk,
    }
