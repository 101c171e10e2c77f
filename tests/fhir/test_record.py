"""The patient record through the API: each entry as its FHIR resource, searched by patient,
and `$everything`; every read audited like the record pages."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from steadfast.appointments import services as appointments
from steadfast.audit.models import AuditEvent
from steadfast.records import services
from tests.factories import (
    PatientFactory,
    SlotFactory,
    UserFactory,
    force_login_verified,
)
from tests.fhir.helpers import FHIRClient, ids, outcome
from tests.fhir.record import record_every_kind
from tests.records.entries import TYPE_2_DIABETES, concept

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RECORD_TYPES = [
    "Encounter",
    "Condition",
    "AllergyIntolerance",
    "MedicationRequest",
    "MedicationStatement",
    "Observation",
    "Immunization",
    "DocumentReference",
]


@pytest.fixture
def clinician(client, gp):
    return FHIRClient(client, gp)


@pytest.fixture
def entries(patient, gp):
    return record_every_kind(patient, gp)


def _audits(patient) -> int:
    return AuditEvent.objects.filter(patient_id=patient.pk).count()


@pytest.mark.parametrize("resource_type", RECORD_TYPES)
def test_each_entry_reads_as_its_resource_and_the_read_is_audited(
    clinician, gp, patient, entries, resource_type
):
    before = _audits(patient)
    response = clinician.get(f"{resource_type}/{entries[resource_type].pk}")
    assert response.status_code == 200
    body = response.fhir
    assert (body["resourceType"], body["id"]) == (resource_type, str(entries[resource_type].pk))
    subject = body.get("subject") or body.get("patient")
    assert subject == {"reference": f"Patient/{patient.pk}"}
    assert _audits(patient) == before + 1
    assert AuditEvent.objects.filter(
        patient_id=patient.pk, user_id=gp.pk, action__startswith="view_"
    ).exists()


def test_codes_are_snomed_and_dmd_with_their_terms(clinician, entries):
    condition = clinician.get(f"Condition/{entries['Condition'].pk}").fhir
    assert condition["code"]["coding"] == [
        {"system": SNOMED, "code": "59621000", "display": "Essential hypertension"}
    ]
    assert condition["clinicalStatus"]["coding"][0]["code"] == "active"
    medicine = clinician.get(f"MedicationRequest/{entries['MedicationRequest'].pk}").fhir
    assert medicine["medicationCodeableConcept"]["coding"][0]["system"] == "https://dmd.nhs.uk"
    assert medicine["medicationCodeableConcept"]["coding"][0]["code"] == "319283006"
    assert medicine["dispenseRequest"]["numberOfRepeatsAllowed"] == 5
    assert medicine["courseOfTherapyType"]["coding"][0]["code"] == "continuous"
    taken = clinician.get(f"MedicationStatement/{entries['MedicationStatement'].pk}").fhir
    assert taken["status"] == "active"
    assert taken["basedOn"] == [{"reference": f"MedicationRequest/{medicine['id']}"}]
    assert taken["dosage"][0]["text"] == medicine["dosageInstruction"][0]["text"]
    allergy = clinician.get(f"AllergyIntolerance/{entries['AllergyIntolerance'].pk}").fhir
    assert allergy["code"]["coding"][0]["code"] == "764146007"
    assert allergy["reaction"][0]["manifestation"][0]["coding"][0]["code"] == "39579001"
    assert allergy["criticality"] == "high"


def test_blood_pressure_is_one_observation_with_systolic_and_diastolic_components(
    clinician, entries
):
    body = clinician.get(f"Observation/{entries['Observation'].pk}").fhir
    assert body["code"]["coding"][0] == {
        "system": LOINC,
        "code": "85354-9",
        "display": "Blood pressure panel",
    }
    assert body["category"][0]["coding"][0]["code"] == "vital-signs"
    assert "valueQuantity" not in body
    systolic, diastolic = body["component"]
    assert {c["code"] for c in systolic["code"]["coding"]} == {"8480-6", "271649006"}
    assert {c["code"] for c in diastolic["code"]["coding"]} == {"8462-4", "271650006"}
    assert systolic["valueQuantity"]["value"] == 162
    assert diastolic["valueQuantity"]["value"] == 98
    assert systolic["valueQuantity"]["code"] == "mm[Hg]"


def test_consultation_text_is_escaped_in_the_encounter_narrative(clinician, entries):
    body = clinician.get(f"Encounter/{entries['Encounter'].pk}").fhir
    assert "&lt;worse in mornings&gt;" in body["text"]["div"]
    assert body["class"]["code"] == "AMB"


def test_document_reference_links_to_the_file_a_clinician_can_open(client, clinician, gp, entries):
    body = clinician.get(f"DocumentReference/{entries['DocumentReference'].pk}").fhir
    attachment = body["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    force_login_verified(client, gp)
    response = client.get(attachment["url"])
    assert response.status_code == 200
    assert bytes(response.content).startswith(b"%PDF-")


@pytest.mark.parametrize("resource_type", RECORD_TYPES)
def test_search_by_patient_finds_only_their_entries_audited_once(
    clinician, gp, practice, patient, entries, resource_type
):
    other = PatientFactory(practice=practice)
    record_every_kind(other, gp)
    before = _audits(patient)
    bundle = clinician.get(f"{resource_type}?patient=Patient/{patient.pk}").fhir
    assert bundle["type"] == "searchset"
    assert ids(bundle, resource_type) == [str(entries[resource_type].pk)]
    assert _audits(patient) == before + 1


def test_search_pages_with_count(clinician, gp, patient):
    for _ in range(3):
        services.add_problem(patient, gp, services.NewProblem(concept(TYPE_2_DIABETES)))
    bundle = clinician.get(f"Condition?patient={patient.pk}&_count=2").fhir
    assert bundle["total"] == 3
    assert len(bundle["entry"]) == 2
    assert any(link["relation"] == "next" for link in bundle["link"])


def test_search_needs_one_patient(clinician):
    assert "patient" in outcome(clinician.get("Condition"), 400)
    assert clinician.get("Condition?patient=Patient/nonsense").fhir["total"] == 0


def test_reception_cannot_read_the_clinical_record(api, entries, patient):
    outcome(api.get(f"Condition/{entries['Condition'].pk}"), 403)
    outcome(api.get(f"Patient/{patient.pk}/$everything"), 403)


def test_another_practice_cannot_see_the_entries(client, entries, patient):
    stranger = FHIRClient(client, UserFactory(role="gp"))
    outcome(stranger.get(f"Condition/{entries['Condition'].pk}"), 404)
    outcome(stranger.get(f"Patient/{patient.pk}/$everything"), 404)
    assert stranger.get(f"Condition?patient={patient.pk}").fhir["total"] == 0


def test_restricted_record_is_refused(client, gp, practice):
    hidden = PatientFactory(practice=practice, is_sensitive=True, usual_gp=gp)
    entries = record_every_kind(hidden, gp)  # their usual GP may write to it
    nurse = FHIRClient(client, UserFactory(practice=practice, role="nurse"))
    assert "restricted" in outcome(nurse.get(f"Condition/{entries['Condition'].pk}"), 403)
    outcome(nurse.get(f"Patient/{hidden.pk}/$everything"), 403)


def test_everything_is_the_patient_their_record_and_appointments_audited_once(
    clinician, gp, practice, patient, entries
):
    booked = appointments.book_appointment(SlotFactory(clinician=gp).pk, patient, gp)
    record_every_kind(PatientFactory(practice=practice), gp)
    before = _audits(patient)
    response = clinician.get(f"Patient/{patient.pk}/$everything")
    assert response.status_code == 200
    bundle = response.fhir
    assert bundle["type"] == "searchset"
    assert ids(bundle, "Patient") == [str(patient.pk)]
    for resource_type, entry in entries.items():
        if resource_type != "MedicationStatement":  # the MedicationRequest already says it
            assert ids(bundle, resource_type) == [str(entry.pk)], resource_type
    assert ids(bundle, "MedicationStatement") == []
    assert ids(bundle, "Appointment") == [str(booked.pk)]
    assert bundle["total"] == len(bundle["entry"])
    assert _audits(patient) == before + 1
    assert AuditEvent.objects.filter(
        patient_id=patient.pk, action="view_record_everything"
    ).exists()


def test_everything_costs_the_same_queries_however_long_the_record(clinician, gp, patient):
    record_every_kind(patient, gp)
    with CaptureQueriesContext(connection) as short:
        clinician.get(f"Patient/{patient.pk}/$everything")
    for _ in range(3):
        record_every_kind(patient, gp)
    with CaptureQueriesContext(connection) as long:
        body = clinician.get(f"Patient/{patient.pk}/$everything").fhir
    assert len(ids(body, "Condition")) == 4
    assert len(long) == len(short)
