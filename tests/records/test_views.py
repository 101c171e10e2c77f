"""The record screens through HTTP: who may see them, what they show, what they cost."""

from datetime import timedelta

import pytest
from django.utils import timezone

from steadfast.accounts.models import Role
from steadfast.appointments import services as appointments
from steadfast.appointments.models import AppointmentStatus
from steadfast.audit.models import AuditEvent
from steadfast.records import services
from steadfast.records.models import Consultation, Observation, Problem
from tests.factories import (
    GPFactory,
    PatientFactory,
    SlotFactory,
    UserFactory,
    force_login_verified,
)
from tests.records.entries import (
    AMLODIPINE_5MG,
    ESSENTIAL_HYPERTENSION,
    PDF,
    PENICILLIN,
    concept,
    record_entries,
)

pytestmark = pytest.mark.django_db
RECORD_PAGES = ["", "journal/", "medicines/", "observations/", "documents/"]


@pytest.fixture
def gp():
    return GPFactory()


@pytest.fixture
def patient(gp):
    patient = PatientFactory(practice=gp.practice, family_name="Ashworth")
    record_entries(patient, gp)
    services.record_allergy(
        patient, gp, concept(PENICILLIN), severity="severe", certainty="confirmed"
    )
    services.add_problem(
        patient, gp, services.NewProblem(concept(ESSENTIAL_HYPERTENSION), significance="major")
    )
    for days in (400, 200, 10):
        services.record_observation(
            patient,
            gp,
            services.NewObservation("bp", str(150 - days // 20), "90"),
            occurred_at=timezone.now() - timedelta(days=days),
        )
    return patient


def url(patient, page=""):
    return f"/record/patients/{patient.pk}/{page}"


@pytest.mark.parametrize("page", RECORD_PAGES)
def test_reception_cannot_open_clinical_pages(client, patient, page):
    force_login_verified(client, UserFactory(practice=patient.practice, role=Role.RECEPTIONIST))
    assert client.get(url(patient, page)).status_code == 403


def test_reception_sees_demographics_without_allergies_or_record_links(client, patient):
    force_login_verified(client, UserFactory(practice=patient.practice, role=Role.RECEPTIONIST))
    page = client.get(f"/patients/{patient.pk}/").content.decode()
    assert "ASHWORTH" in page
    assert "Penicillin" not in page
    assert url(patient, "journal/") not in page


def test_gp_sees_the_allergy_banner_on_every_page_of_the_patient(client, gp, patient):
    force_login_verified(client, gp)
    for page in [f"/patients/{patient.pk}/"] + [url(patient, p) for p in RECORD_PAGES]:
        response = client.get(page)
        assert response.status_code == 200, page
        assert "Penicillin" in response.content.decode(), page


@pytest.mark.parametrize("page", RECORD_PAGES)
def test_each_record_view_writes_exactly_one_audit_entry(client, gp, patient, page):
    force_login_verified(client, gp)
    before = AuditEvent.objects.filter(patient_id=patient.pk).count()
    client.get(url(patient, page))
    assert AuditEvent.objects.filter(patient_id=patient.pk).count() == before + 1


def test_summary_shows_problems_repeats_observations_and_consultations(client, gp, patient):
    force_login_verified(client, gp)
    page = client.get(url(patient)).content.decode()
    assert "Essential hypertension" in page
    assert "Amlodipine 5mg tablets" in page
    assert "150/90 mmHg" in page  # the latest blood pressure (10 days ago)
    assert "Headaches for a week." in page


@pytest.mark.parametrize("page", ["", "journal/"])
def test_summary_and_journal_query_counts_do_not_grow_with_the_record(
    client, gp, patient, page, django_assert_max_num_queries
):
    force_login_verified(client, gp)
    client.get(url(patient, page))
    for days in range(30):
        services.record_observation(
            patient, gp, services.NewObservation("pulse", "70"),
            occurred_at=timezone.now() - timedelta(days=days),
        )  # fmt: skip
        services.add_problem(patient, gp, services.NewProblem(concept(ESSENTIAL_HYPERTENSION)))
    with django_assert_max_num_queries(40):
        response = client.get(url(patient, page))
    assert response.status_code == 200


def test_journal_filters_by_entry_type_and_pages(client, gp, patient):
    force_login_verified(client, gp)
    page = client.get(url(patient, "journal/") + "?type=observation").content.decode()
    assert "Blood pressure" in page
    assert "Headaches for a week." not in page
    for _ in range(105):
        services.record_observation(patient, gp, services.NewObservation("pulse", "70"))
    first = client.get(url(patient, "journal/"))
    assert "Older entries" in first.content.decode()


def test_start_consultation_from_my_list_and_save_finishes_the_appointment(client, gp):
    patient = PatientFactory(practice=gp.practice)
    appt = appointments.book_appointment(SlotFactory(clinician=gp).pk, patient, gp)
    force_login_verified(client, gp)
    response = client.get(f"/record/appointments/{appt.pk}/consultation/")
    assert response.status_code == 302
    consult_url = response.url
    assert client.get(consult_url).status_code == 200
    response = client.post(
        url(patient, "consultation/"),
        {
            "appointment": appt.pk,
            "consultation_type": "face_to_face",
            "history": "Raised BP at pharmacy.",
            "problem_q": "essential hyp",
            "problem_code": ESSENTIAL_HYPERTENSION,
            "problem_significance": "major",
            "bp_systolic": "158",
            "bp_diastolic": "96",
            "medicine_q": "amlodipine",
            "medicine_code": AMLODIPINE_5MG,
            "medicine_kind": "repeat",
            "dose": "One daily",
            "quantity": "28",
            "quantity_unit": "tablet",
            "issues_allowed": "6",
            "save": "1",
        },
    )
    assert response.status_code == 302
    appt.refresh_from_db()
    assert appt.status == AppointmentStatus.FINISHED
    assert Consultation.objects.get(patient=patient).appointment == appt
    assert Problem.objects.get(patient=patient).concept.code == ESSENTIAL_HYPERTENSION
    assert Observation.objects.get(patient=patient, kind="bp").value2 == 96


def test_code_picker_works_without_javascript(client, gp):
    patient = PatientFactory(practice=gp.practice)
    force_login_verified(client, gp)
    response = client.post(
        url(patient, "consultation/"),
        {"consultation_type": "face_to_face", "problem_q": "essential hyp", "find": "problem"},
    )
    assert response.status_code == 200
    assert f'value="{ESSENTIAL_HYPERTENSION}"' in response.content.decode()
    assert not Consultation.objects.exists()


def test_bad_observation_on_the_consultation_screen_is_a_message_not_an_error(client, gp):
    patient = PatientFactory(practice=gp.practice)
    force_login_verified(client, gp)
    response = client.post(
        url(patient, "consultation/"),
        {"consultation_type": "face_to_face", "history": "x", "bp_systolic": "140", "save": "1"},
    )
    assert response.status_code == 400
    assert "both systolic and diastolic" in response.content.decode()


def test_concept_search_by_word_start_prefix_and_code(client, gp):
    force_login_verified(client, gp)
    by_word = client.get("/record/concepts/?picker=problem&problem_q=hypert").content.decode()
    assert "Essential hypertension" in by_word
    by_two_words = client.get(
        "/record/concepts/?picker=problem&problem_q=type 2 diab"
    ).content.decode()
    assert "Type 2 diabetes mellitus" in by_two_words
    assert "Type 1 diabetes" not in by_two_words
    by_code = client.get(f"/record/concepts/?picker=medicine&medicine_q={AMLODIPINE_5MG}")
    assert "Amlodipine 5mg tablets" in by_code.content.decode()


def test_repeat_issued_from_the_medication_screen(client, gp, patient):
    force_login_verified(client, gp)
    med = patient_repeat(patient)
    response = client.post(url(patient, f"medicines/{med.pk}/issue/"))
    assert response.status_code == 302
    med.refresh_from_db()
    assert med.issues_made == 2


def patient_repeat(patient):
    from steadfast.records.models import Medication

    return Medication.objects.get(patient=patient, kind="repeat")


def test_document_is_viewable_inline_and_upload_refuses_other_files(client, gp, patient):
    force_login_verified(client, gp)
    page = client.get(url(patient, "documents/")).content.decode()
    assert "Discharge letter" in page
    from steadfast.records.models import Document

    doc = Document.objects.get(patient=patient)
    response = client.get(url(patient, f"documents/{doc.pk}/"))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "inline"
    assert response.content == PDF
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        url(patient, "documents/attach/"),
        {"title": "x", "kind": "letter", "file": SimpleUploadedFile("x.exe", b"MZ\x90")},
    )
    assert response.status_code == 400
    assert "PDF, PNG or JPEG" in response.content.decode()


def test_observation_trends_are_svg_with_a_table(client, gp, patient):
    force_login_verified(client, gp)
    page = client.get(url(patient, "observations/")).content.decode()
    assert "<svg" in page and "Blood pressure trend" in page
    assert "<table" in page


def test_no_known_allergies_recorded_from_the_allergy_page(client, gp):
    patient = PatientFactory(practice=gp.practice)
    force_login_verified(client, gp)
    assert "Allergies not recorded" in client.get(url(patient)).content.decode()
    client.post(url(patient, "allergies/"), {"no_known_allergies": "1"})
    assert "No known allergies" in client.get(url(patient)).content.decode()
