"""Bug 8: a consultation holds several problems and medicines, and the journal shows it as one
entry with its parts in a fixed order (problems, observations, medicines)."""

import pytest

from steadfast.records import services
from steadfast.records.models import Consultation, Medication, Problem
from tests.factories import GPFactory, PatientFactory, force_login_verified
from tests.records.entries import (
    AMLODIPINE_5MG,
    ESSENTIAL_HYPERTENSION,
    METFORMIN_500MG,
    TYPE_2_DIABETES,
    concept,
)

pytestmark = pytest.mark.django_db


def test_a_consultation_saves_several_problems_and_medicines(client):
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    force_login_verified(client, gp)
    url = f"/record/patients/{patient.pk}/consultation/"
    page = client.post(url, {"consultation_type": "face_to_face", "add": "problem"})
    assert 'name="problem2_q"' in page.content.decode()
    response = client.post(
        url,
        {
            "consultation_type": "face_to_face",
            "history": "Thirsty; home BP high.",
            "problem_count": "2",
            "medicine_count": "2",
            "problem_code": ESSENTIAL_HYPERTENSION,
            "problem_significance": "major",
            "problem2_code": TYPE_2_DIABETES,
            "problem2_significance": "major",
            "medicine_code": AMLODIPINE_5MG,
            "medicine_kind": "acute",
            "dose": "One daily",
            "quantity": "28",
            "medicine2_code": METFORMIN_500MG,
            "medicine2_kind": "acute",
            "medicine2_dose": "One twice a day",
            "medicine2_quantity": "56",
            "save": "1",
        },
    )
    assert response.status_code == 302
    consultation = Consultation.objects.get(patient=patient)
    problems = Problem.objects.filter(consultations=consultation)
    assert {p.concept.code for p in problems} == {ESSENTIAL_HYPERTENSION, TYPE_2_DIABETES}
    medicines = Medication.objects.filter(consultation=consultation)
    assert {(m.concept.code, m.quantity) for m in medicines} == {
        (AMLODIPINE_5MG, 28),
        (METFORMIN_500MG, 56),
    }


def test_the_journal_shows_a_consultation_as_one_entry_with_its_parts_in_order(client):
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    note = services.ConsultationNote("face_to_face", history="Review.")
    note.medications.append(services.NewMedication(concept(AMLODIPINE_5MG), "acute", "Daily", 28))
    note.observations.append(services.NewObservation("bp", "150", "92"))
    note.problems.append(services.NewProblem(concept(ESSENTIAL_HYPERTENSION)))
    services.save_consultation(patient, gp, note)
    force_login_verified(client, gp)
    page = client.get(f"/record/patients/{patient.pk}/journal/").content.decode()
    rows = page.split("<tbody>")[1].split("</tbody>")[0].count("<tr>")
    assert rows == 1
    problem = page.index("Problem: Essential hypertension")
    reading = page.index("Observation: Blood pressure")
    medicine = page.index("Medicine: Amlodipine")
    assert problem < reading < medicine

    only_problems = client.get(f"/record/patients/{patient.pk}/journal/", {"type": "problem"})
    assert "Essential hypertension" in only_problems.content.decode()


def test_every_impossible_observation_is_reported_at_once(client):
    """Issue 17 bug 2: only the first impossible observation was reported."""
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    force_login_verified(client, gp)
    response = client.post(
        f"/record/patients/{patient.pk}/consultation/",
        {
            "consultation_type": "face_to_face",
            "history": "Unwell.",
            "bp_systolic": "900",
            "bp_diastolic": "80",
            "pulse": "900",
            "temperature": "80",
            "save": "1",
        },
    )
    assert response.status_code == 400
    summary = response.content.decode().split("nhsuk-error-summary__list")[1].split("</ul>")[0]
    for field, reading in [
        ("id_bp_systolic", "Blood pressure of 900"),
        ("id_pulse", "Pulse of 900"),
        ("id_temperature", "Temperature of 80"),
    ]:
        assert f'href="#{field}"' in summary
        assert reading in summary
    assert not Consultation.objects.exists()
