"""Each kind of record entry, made through the services as a clinician makes it."""

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from steadfast.appointments import services as appointments
from steadfast.appointments.models import AppointmentStatus
from steadfast.audit.models import AuditEvent
from steadfast.errors import NotPermitted
from steadfast.records import services
from steadfast.records.errors import InvalidEntry
from steadfast.records.models import (
    Consultation,
    Medication,
    MedicationIssue,
    NoKnownAllergies,
    Observation,
    Problem,
)
from steadfast.records.queries import banner, patient_summary
from tests.factories import GPFactory, PatientFactory, SlotFactory
from tests.records.entries import (
    AMLODIPINE_5MG,
    ANAPHYLAXIS,
    CARES_FOR_A_RELATIVE,
    ESSENTIAL_HYPERTENSION,
    INFLUENZA_VACCINATION,
    PDF,
    PENICILLIN,
    TYPE_2_DIABETES,
    concept,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def gp():
    return GPFactory()


@pytest.fixture
def patient(gp):
    return PatientFactory(practice=gp.practice)


def test_consultation_saved_whole_with_coded_entries_finishes_its_appointment(gp, patient):
    appt = appointments.book_appointment(SlotFactory(clinician=gp).pk, patient, gp)
    note = services.ConsultationNote(
        "face_to_face",
        history="Headaches.",
        plan="Start amlodipine.",
        problems=[services.NewProblem(concept(ESSENTIAL_HYPERTENSION), significance="major")],
        observations=[services.NewObservation("bp", "162", "98")],
        medications=[
            services.NewMedication(
                concept(AMLODIPINE_5MG), "repeat", "One daily", 28, issues_allowed=6
            )
        ],
    )
    consultation = services.save_consultation(patient, gp, note, appointment=appt)

    appt.refresh_from_db()
    assert appt.status == AppointmentStatus.FINISHED
    problem = Problem.objects.get(patient=patient)
    assert problem.concept.code == ESSENTIAL_HYPERTENSION
    assert list(problem.consultations.all()) == [consultation]
    bp = Observation.objects.get(patient=patient, kind="bp")
    assert (bp.value, bp.value2, bp.consultation) == (162, 98, consultation)
    assert Medication.objects.get(patient=patient).consultation == consultation
    assert (
        AuditEvent.objects.filter(action="record_consultation", patient_id=patient.pk).count() == 1
    )


def test_a_failing_coded_entry_saves_nothing_of_the_consultation(gp, patient):
    note = services.ConsultationNote(
        "telephone",
        history="Dizzy.",
        observations=[services.NewObservation("bp", "120", "140")],  # diastolic above systolic
    )
    with pytest.raises(InvalidEntry):
        services.save_consultation(patient, gp, note)
    assert not Consultation.objects.filter(patient=patient).exists()


def test_empty_consultation_is_refused(gp, patient):
    with pytest.raises(InvalidEntry):
        services.save_consultation(patient, gp, services.ConsultationNote("video"))


def test_every_entry_keeps_when_it_happened_and_when_recorded(gp, patient):
    last_year = timezone.now() - timedelta(days=365)
    problem = services.add_problem(
        patient, gp, services.NewProblem(concept(TYPE_2_DIABETES)), occurred_at=last_year
    )
    assert problem.occurred_at == last_year
    assert problem.recorded_at > last_year
    assert problem.recorded_by == gp
    assert problem.retrospective is True
    today = services.add_problem(patient, gp, services.NewProblem(concept(ESSENTIAL_HYPERTENSION)))
    assert today.retrospective is False


def test_an_entry_cannot_be_dated_in_the_future(gp, patient):
    with pytest.raises(InvalidEntry):
        services.add_problem(
            patient,
            gp,
            services.NewProblem(concept(TYPE_2_DIABETES)),
            occurred_at=timezone.now() + timedelta(days=2),
        )


def test_problem_must_be_a_problem_code(gp, patient):
    with pytest.raises(InvalidEntry):
        services.add_problem(patient, gp, services.NewProblem(concept(PENICILLIN)))


def test_problem_can_be_ended_and_leaves_the_summary(gp, patient):
    problem = services.add_problem(patient, gp, services.NewProblem(concept(TYPE_2_DIABETES)))
    services.end_problem(problem, gp, timezone.localdate())
    assert patient_summary(patient)["problems"] == []


def test_repeat_is_issued_until_its_issues_run_out(gp, patient):
    med = services.prescribe(
        patient,
        gp,
        services.NewMedication(
            concept(AMLODIPINE_5MG), "repeat", "One daily", 28, issues_allowed=2
        ),
    )
    assert med.issues_made == 1  # prescribing makes the first issue
    second = services.issue_repeat(med, gp)
    assert second.number == 2
    with pytest.raises(InvalidEntry, match="review"):
        services.issue_repeat(med, gp)
    assert MedicationIssue.objects.filter(medication=med).count() == 2


def test_stopped_medicine_cannot_be_issued_and_says_why(gp, patient):
    med = services.prescribe(
        patient,
        gp,
        services.NewMedication(
            concept(AMLODIPINE_5MG), "repeat", "One daily", 28, issues_allowed=6
        ),
    )
    with pytest.raises(InvalidEntry):
        services.stop_medication(med, gp, "  ")
    services.stop_medication(med, gp, "Ankle swelling")
    med.refresh_from_db()
    assert med.stop_reason == "Ankle swelling" and med.stopped_by == gp
    with pytest.raises(InvalidEntry, match="stopped"):
        services.issue_repeat(med, gp)


def test_repeat_without_issues_allowed_is_refused_by_the_database(gp, patient):
    med = services.prescribe(
        patient, gp, services.NewMedication(concept(AMLODIPINE_5MG), "acute", "One daily", 28)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Medication.objects.filter(pk=med.pk).update(kind="repeat")


def test_allergy_is_on_the_banner(gp, patient):
    services.record_allergy(
        patient,
        gp,
        concept(PENICILLIN),
        severity="severe",
        certainty="confirmed",
        reaction=concept(ANAPHYLAXIS),
    )
    b = banner(patient)
    assert [a.substance.term for a in b.allergies] == ["Penicillin"]
    assert b.allergies[0].reaction.term == "Anaphylaxis"


def test_no_known_allergies_is_a_recorded_state_distinct_from_not_recorded(gp, patient):
    assert banner(patient).no_known_allergies is None  # not recorded
    nka = services.record_no_known_allergies(patient, gp)
    assert banner(patient).no_known_allergies == nka
    services.record_allergy(
        patient, gp, concept(PENICILLIN), severity="mild", certainty="suspected"
    )
    assert banner(patient).no_known_allergies is None  # an allergy since supersedes it
    with pytest.raises(InvalidEntry):
        services.record_no_known_allergies(patient, gp)
    assert NoKnownAllergies.objects.filter(patient=patient).count() == 1


def test_weight_and_height_give_a_derived_bmi(gp, patient):
    services.record_observation(patient, gp, services.NewObservation("height", "170"))
    made = services.record_observation(patient, gp, services.NewObservation("weight", "80"))
    bmi = made[-1]
    assert (bmi.kind, bmi.value, bmi.derived) == ("bmi", Decimal("27.7"), True)


def test_blood_pressure_needs_both_numbers_and_plausible_values(gp, patient):
    with pytest.raises(InvalidEntry, match="both"):
        services.record_observation(patient, gp, services.NewObservation("bp", "140"))
    with pytest.raises(InvalidEntry, match="not possible"):
        services.record_observation(patient, gp, services.NewObservation("pulse", "900"))
    with pytest.raises(InvalidEntry, match="number"):
        services.record_observation(patient, gp, services.NewObservation("pulse", "fast"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Observation.objects.create(
            practice=patient.practice,
            patient=patient,
            occurred_at=timezone.now(),
            recorded_at=timezone.now(),
            recorded_by=gp,
            kind="bp",
            concept=concept("271649006"),
            value=120,
        )


def test_smoking_status_is_coded(gp, patient):
    [o] = services.record_observation(
        patient, gp, services.NewObservation("smoking", smoking="ex_smoker")
    )
    assert o.concept.term == "Ex-smoker"


def test_immunisation_keeps_vaccine_dose_and_batch(gp, patient):
    given = services.record_immunisation(
        patient, gp, concept(INFLUENZA_VACCINATION), batch="AB1234", dose_number=1
    )
    assert (given.vaccine.code, given.batch, given.dose_number) == (
        INFLUENZA_VACCINATION,
        "AB1234",
        1,
    )
    with pytest.raises(InvalidEntry):
        services.record_immunisation(patient, gp, concept(INFLUENZA_VACCINATION), batch="")


def test_document_is_kept_with_its_checksum_and_only_pdf_or_image(gp, patient):
    doc = services.attach_document(patient, gp, title="Letter", kind="letter", content=PDF)
    assert doc.sha256 == hashlib.sha256(PDF).hexdigest()
    assert doc.content_type == "application/pdf"
    with pytest.raises(InvalidEntry, match="PDF"):
        services.attach_document(patient, gp, title="Notes", kind="other", content=b"MZ\x90\x00")


def test_flag_is_on_the_banner(gp, patient):
    services.add_flag(patient, gp, concept(CARES_FOR_A_RELATIVE), note="Mother")
    assert [f.concept.term for f in banner(patient).flags] == ["Cares for a relative"]


def test_entries_for_another_practices_patient_are_refused(gp):
    stranger = PatientFactory()
    with pytest.raises(NotPermitted, match="not registered at your practice"):
        services.add_problem(stranger, gp, services.NewProblem(concept(TYPE_2_DIABETES)))
