"""A refused request is itself on the audit trail (outcome denied), so the practice manager sees
who tried; and a page that lets a write through still meets the service's refusal."""

import pytest
from django.urls import reverse

from steadfast.accounts.models import Role
from steadfast.audit.models import AuditEvent, Outcome
from steadfast.records.models import Consultation, Medication
from tests.factories import GPFactory, PatientFactory, UserFactory, force_login_verified
from tests.records.entries import AMLODIPINE_5MG

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient():
    return PatientFactory(practice=GPFactory().practice)


def _refusals(user) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(user_id=user.pk, outcome=Outcome.DENIED))


def test_a_page_refused_to_a_role_is_audited_with_the_patient(client, patient):
    hca = UserFactory(practice=patient.practice, role=Role.HCA)
    force_login_verified(client, hca)
    url = reverse("records:prescribe", args=[patient.pk])
    assert client.get(url).status_code == 403
    [refusal] = _refusals(hca)
    assert (refusal.action, refusal.patient_id) == ("refused", patient.pk)
    assert refusal.detail == f"prescribe: GET {url}"


def test_a_refused_search_page_keeps_the_search_words_off_the_trail(client, patient):
    admin = UserFactory(practice=patient.practice, role=Role.ADMIN)
    force_login_verified(client, admin)
    assert client.get(reverse("patients:search"), {"q": "winterbottom"}).status_code == 403
    [refusal] = _refusals(admin)
    assert "winterbottom" not in refusal.detail


def test_a_refused_break_glass_is_audited(client, patient):
    patient.is_sensitive = True
    patient.save()
    reception = UserFactory(practice=patient.practice)
    client.force_login(reception)
    url = reverse("audit:break_glass", args=[patient.pk])
    assert client.post(url, {"reason": "just"}).status_code == 400
    [refusal] = _refusals(reception)
    assert (refusal.action, refusal.patient_id) == ("break_glass", patient.pk)


def test_a_healthcare_assistant_cannot_prescribe_in_a_consultation(client, patient):
    hca = UserFactory(practice=patient.practice, role=Role.HCA)
    force_login_verified(client, hca)
    url = reverse("records:consult", args=[patient.pk])
    assert "Medicine (dm+d)" not in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "consultation_type": "face_to_face",
            "history": "Blood pressure check.",
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
    assert response.status_code == 403
    assert not Medication.objects.filter(patient=patient).exists()
    assert not Consultation.objects.filter(patient=patient).exists()
    assert _refusals(hca)[0].detail == f"prescribe: POST {url}"
