"""Writes through the API meet the same rules as the pages, because the services decide: a
transaction Bundle's entries each need their own activity, a restricted record needs a
break-glass, and every refusal is on the audit trail."""

import copy

import pytest

from steadfast.accounts.models import Role
from steadfast.appointments import services as appointments
from steadfast.audit import services as audit
from steadfast.audit.models import AuditEvent, Outcome
from steadfast.patients.models import Patient
from steadfast.records.models import Medication, Problem
from tests.factories import PatientFactory, SlotFactory, UserFactory
from tests.fhir.helpers import FHIRClient, outcome
from tests.fhir.test_transaction import CONDITION, MEDICATION, NHS_NUMBER, bundle


def _existing(practice, **fields) -> Patient:
    return PatientFactory(practice=practice, nhs_number=NHS_NUMBER, **fields)


def _refusals(user) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(user_id=user.pk, outcome=Outcome.DENIED))


def test_a_healthcare_assistant_cannot_prescribe_through_a_bundle(client, practice):
    patient = _existing(practice)
    hca = UserFactory(practice=practice, role=Role.HCA)
    diagnostics = outcome(FHIRClient(client, hca).post("", bundle(MEDICATION)), 403)
    assert "entry 1" in diagnostics and "prescribe" in diagnostics
    assert not Medication.objects.filter(patient=patient).exists()
    [refusal] = _refusals(hca)
    assert (refusal.action, refusal.patient_id) == ("refused", patient.pk)
    assert refusal.detail.startswith("prescribe: POST /fhir/")


def test_a_nurse_may_still_import_a_repeat_through_a_bundle(client, practice):
    patient = _existing(practice)
    nurse = UserFactory(practice=practice, role=Role.NURSE)
    assert FHIRClient(client, nurse).post("", bundle(MEDICATION)).status_code == 200
    assert Medication.objects.filter(patient=patient, kind="repeat").exists()


@pytest.mark.parametrize("role", [Role.GP, Role.HCA, Role.NURSE])
def test_clinicians_cannot_register_a_patient_through_a_bundle(client, practice, role):
    clinician = UserFactory(practice=practice, role=role)
    diagnostics = outcome(FHIRClient(client, clinician).post("", bundle(CONDITION)), 403)
    assert "entry 0" in diagnostics and "register patients" in diagnostics
    assert not Patient.objects.exists()
    assert [e.action for e in _refusals(clinician)] == ["refused"]


def test_reception_registers_through_a_bundle(client, receptionist):
    response = FHIRClient(client, receptionist).post("", bundle())
    assert response.fhir["entry"][0]["response"]["status"] == "201 Created"
    assert Patient.objects.filter(nhs_number=NHS_NUMBER).exists()


def test_a_condition_for_a_restricted_record_needs_break_glass(client, practice, gp):
    hidden = _existing(practice, is_sensitive=True)
    api = FHIRClient(client, gp)
    diagnostics = outcome(api.post("", bundle(CONDITION)), 403)
    assert "restricted" in diagnostics
    assert not Problem.objects.filter(patient=hidden).exists()
    [refusal] = _refusals(gp)
    assert refusal.patient_id == hidden.pk

    by_reference = copy.deepcopy(CONDITION)
    by_reference["subject"] = {"reference": f"Patient/{hidden.pk}"}
    entry = {"resource": by_reference, "request": {"method": "POST", "url": "Condition"}}
    direct = {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}
    outcome(api.post("", direct), 403)
    assert not Problem.objects.filter(patient=hidden).exists()

    audit.break_glass(gp, hidden, "Importing the record sent by the previous practice")
    assert api.post("", bundle(CONDITION)).status_code == 200
    assert Problem.objects.filter(patient=hidden).exists()


def test_the_usual_gp_writes_to_a_restricted_record_without_being_asked(client, practice, gp):
    hidden = _existing(practice, is_sensitive=True, usual_gp=gp)
    assert FHIRClient(client, gp).post("", bundle(CONDITION)).status_code == 200
    assert Problem.objects.filter(patient=hidden).exists()


def test_cancelling_a_restricted_patients_appointment_needs_break_glass(
    client, practice, gp, receptionist
):
    hidden = PatientFactory(practice=practice)
    booked = appointments.book_appointment(SlotFactory(clinician=gp).pk, hidden, gp)
    hidden.is_sensitive = True
    hidden.save()
    body = {
        "resourceType": "Appointment",
        "id": str(booked.pk),
        "status": "cancelled",
        "cancelationReason": {"text": "Patient rang"},
        "slot": [{"reference": f"Slot/{booked.slot_id}"}],
        "participant": [
            {"actor": {"reference": f"Patient/{hidden.pk}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{gp.pk}"}, "status": "accepted"},
        ],
    }
    api = FHIRClient(client, receptionist)
    outcome(api.put(f"Appointment/{booked.pk}", body), 403)
    booked.refresh_from_db()
    assert booked.status == "booked"
    assert _refusals(receptionist)[0].patient_id == hidden.pk


def test_a_route_refusal_is_audited_as_denied(client, practice):
    admin = UserFactory(practice=practice, role=Role.ADMIN)
    outcome(FHIRClient(client, admin).get("Patient?family=smith"), 403)
    [refusal] = _refusals(admin)
    assert refusal.action == "refused"
    assert refusal.detail == "view_demographics: GET /fhir/Patient (API)"
    assert "smith" not in refusal.detail
