"""Prescribing against a recorded allergy class warns; edited consultations keep their past."""

import pytest

from steadfast.records import services
from steadfast.records.errors import AllergyWarning, InvalidEntry, StaleEdit
from steadfast.records.models import ConsultationVersion, Medication
from tests.factories import GPFactory, PatientFactory, force_login_verified
from tests.records.entries import AMLODIPINE_5MG, AMOXICILLIN_500MG, PENICILLIN, concept

pytestmark = pytest.mark.django_db


@pytest.fixture
def allergic(db):
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    services.record_allergy(
        patient, gp, concept(PENICILLIN), severity="severe", certainty="confirmed"
    )
    return gp, patient


def amoxicillin():
    return services.NewMedication(concept(AMOXICILLIN_500MG), "acute", "One three times a day", 21)


def test_prescribing_a_medicine_in_an_allergy_class_warns(allergic):
    gp, patient = allergic
    with pytest.raises(AllergyWarning, match="Penicillin"):
        services.prescribe(patient, gp, amoxicillin())
    assert not Medication.objects.filter(patient=patient).exists()


def test_prescriber_may_go_ahead_after_confirming(allergic):
    gp, patient = allergic
    med = services.prescribe(patient, gp, amoxicillin(), allergy_confirmed=True)
    assert med.concept.code == AMOXICILLIN_500MG


def test_a_medicine_of_another_class_does_not_warn(allergic):
    gp, patient = allergic
    services.prescribe(
        patient, gp, services.NewMedication(concept(AMLODIPINE_5MG), "acute", "One daily", 28)
    )


def test_prescribe_page_turns_the_warning_into_a_confirm_step(client, allergic):
    gp, patient = allergic
    force_login_verified(client, gp)
    url = f"/record/patients/{patient.pk}/medicines/prescribe/"
    form = {
        "medicine_q": "amoxicillin",
        "medicine_code": AMOXICILLIN_500MG,
        "medicine_kind": "acute",
        "dose": "One three times a day",
        "quantity": "21",
        "quantity_unit": "capsule",
        "save": "1",
    }
    response = client.post(url, form)
    assert response.status_code == 400
    assert "Allergy warning" in response.content.decode()
    assert not Medication.objects.filter(patient=patient).exists()
    response = client.post(url, {**form, "allergy_confirmed": "on"})
    assert response.status_code == 400
    assert "Give the reason for prescribing despite the allergy" in response.content.decode()
    reason = "Tolerated amoxicillin in 2024 without reaction"
    response = client.post(url, {**form, "allergy_confirmed": "on", "allergy_reason": reason})
    assert response.status_code == 302
    medication = Medication.objects.get(patient=patient)
    assert medication.allergy_override.startswith("Prescribed despite a recorded allergy to")
    assert medication.allergy_override.endswith(reason)


def test_an_allergy_override_and_its_reason_are_in_the_journal(client, allergic):
    gp, patient = allergic
    services.prescribe(
        patient,
        gp,
        services.NewMedication(concept(AMOXICILLIN_500MG), "acute", "One three times a day", 21),
        allergy_confirmed=True,
        override_reason="Tolerated amoxicillin in 2024",
    )
    force_login_verified(client, gp)
    page = client.get(f"/record/patients/{patient.pk}/journal/").content.decode()
    assert "Prescribed despite a recorded allergy to" in page
    assert "Tolerated amoxicillin in 2024" in page


def test_picking_a_medicine_warns_of_the_allergy_before_saving(client, allergic):
    gp, patient = allergic
    force_login_verified(client, gp)
    check = f"/record/patients/{patient.pk}/medicines/check/"
    warned = client.get(check, {"medicine_code": AMOXICILLIN_500MG}).content.decode()
    assert "this patient has a recorded allergy to" in warned
    assert 'name="allergy_reason"' in warned
    clear = client.get(check, {"medicine_code": AMLODIPINE_5MG}).content.decode()
    assert "Allergy warning" not in clear


def test_editing_a_consultation_keeps_the_previous_version_with_who_when_why(db):
    gp, other = GPFactory(), None
    patient = PatientFactory(practice=gp.practice)
    other = GPFactory(practice=gp.practice)
    c = services.save_consultation(
        patient, gp, services.ConsultationNote("face_to_face", history="Cough 3 days.")
    )
    edited = services.edit_consultation(
        c, other, reason="Wrong duration", expected_version=1, history="Cough 3 weeks."
    )
    assert (edited.history, edited.version, edited.edited_by) == ("Cough 3 weeks.", 2, other)
    [v] = ConsultationVersion.objects.filter(consultation=c)
    assert (v.version, v.history, v.written_by, v.replaced_by, v.reason) == (
        1,
        "Cough 3 days.",
        gp,
        other,
        "Wrong duration",
    )


def test_edit_needs_a_reason_and_a_current_version(db):
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    c = services.save_consultation(patient, gp, services.ConsultationNote("video", plan="Review"))
    with pytest.raises(InvalidEntry):
        services.edit_consultation(c, gp, reason=" ", expected_version=1, plan="Changed")
    services.edit_consultation(c, gp, reason="Typo", expected_version=1, plan="Review in 2 weeks")
    with pytest.raises(StaleEdit):
        services.edit_consultation(c, gp, reason="Typo", expected_version=1, plan="Other")
