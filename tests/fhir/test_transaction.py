"""Importing patients and their records with a transaction Bundle: all or nothing, and a re-run
creates nothing new.

The resources are the HL7 FHIR R4 specification's own examples (Patient "example", Condition
"example", Observation "blood-pressure", AllergyIntolerance "example", Immunization "example"),
adapted only where our data must differ: a synthetic 999-range NHS number, a UK address, and
codes from the terminology Steadfast ships in place of ones it does not.
"""

import copy
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from steadfast.audit.models import AuditEvent
from steadfast.patients.models import Patient
from steadfast.records.models import Allergy, Immunisation, Medication, Observation, Problem
from tests.factories import UserFactory
from tests.fhir.helpers import FHIRClient, outcome

NHS = "https://fhir.nhs.uk/Id/nhs-number"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
NHS_NUMBER = "9990000018"
PATIENT_URL = "urn:uuid:a6c7e5b0-3f2c-4d47-9c53-2a7f0d1e6b11"

# HL7 Patient "example" (Peter James Chalmers), with a UK address and synthetic NHS number.
PATIENT = {
    "resourceType": "Patient",
    "identifier": [{"use": "usual", "system": NHS, "value": NHS_NUMBER}],
    "active": True,
    "name": [
        {"use": "official", "family": "Chalmers", "given": ["Peter", "James"]},
        {"use": "usual", "given": ["Jim"]},
    ],
    "telecom": [{"system": "phone", "value": "0113 496 0123", "use": "home"}],
    "gender": "male",
    "birthDate": "1974-12-25",
    "deceasedBoolean": False,
    "address": [
        {
            "use": "home",
            "type": "both",
            "line": ["534 Erewhon Street"],
            "city": "Leeds",
            "postalCode": "LS1 5HD",
        }
    ],
}
# HL7 Condition "example" (a burn of the ear, 39065001) as a problem Steadfast ships.
CONDITION = {
    "resourceType": "Condition",
    "clinicalStatus": {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
        ]
    },
    "verificationStatus": {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                "code": "confirmed",
            }
        ]
    },
    "category": [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                    "code": "encounter-diagnosis",
                }
            ]
        }
    ],
    "code": {
        "coding": [{"system": SNOMED, "code": "59621000", "display": "Essential hypertension"}]
    },
    "subject": {"reference": PATIENT_URL},
    "onsetDateTime": "2012-05-24",
}
# HL7 Observation "blood-pressure": 107/60 mmHg on 17 Sep 2012.
BLOOD_PRESSURE = {
    "resourceType": "Observation",
    "status": "final",
    "category": [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "vital-signs",
                }
            ]
        }
    ],
    "code": {
        "coding": [
            {
                "system": LOINC,
                "code": "85354-9",
                "display": "Blood pressure panel with all children optional",
            }
        ],
        "text": "Blood pressure systolic & diastolic",
    },
    "subject": {"reference": PATIENT_URL},
    "effectiveDateTime": "2012-09-17",
    "component": [
        {
            "code": {
                "coding": [
                    {"system": LOINC, "code": "8480-6", "display": "Systolic blood pressure"},
                    {"system": SNOMED, "code": "271649006", "display": "Systolic blood pressure"},
                ]
            },
            "valueQuantity": {"value": 107, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
        },
        {
            "code": {
                "coding": [
                    {"system": LOINC, "code": "8462-4", "display": "Diastolic blood pressure"}
                ]
            },
            "valueQuantity": {"value": 60, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
        },
    ],
}
# HL7 AllergyIntolerance "example" (cashew nuts) as an allergy to penicillin with anaphylaxis.
ALLERGY = {
    "resourceType": "AllergyIntolerance",
    "clinicalStatus": {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                "code": "active",
            }
        ]
    },
    "verificationStatus": {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                "code": "confirmed",
            }
        ]
    },
    "type": "allergy",
    "category": ["medication"],
    "criticality": "high",
    "code": {"coding": [{"system": SNOMED, "code": "764146007", "display": "Penicillin"}]},
    "patient": {"reference": PATIENT_URL},
    "onsetDateTime": "2004",
    "recordedDate": "2014-10-09T14:58:00+11:00",
    "reaction": [
        {
            "manifestation": [
                {"coding": [{"system": SNOMED, "code": "39579001", "display": "Anaphylaxis"}]}
            ],
            "severity": "severe",
        }
    ],
}
MEDICATION = {
    "resourceType": "MedicationRequest",
    "status": "active",
    "intent": "order",
    "courseOfTherapyType": {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy",
                "code": "continuous",
            }
        ]
    },
    "medicationCodeableConcept": {
        "coding": [
            {
                "system": "https://dmd.nhs.uk",
                "code": "319283006",
                "display": "Amlodipine 5mg tablets",
            }
        ]
    },
    "subject": {"reference": PATIENT_URL},
    "authoredOn": "2015-01-15",
    "dosageInstruction": [{"text": "One tablet daily"}],
    "dispenseRequest": {"numberOfRepeatsAllowed": 5, "quantity": {"value": 28, "unit": "tablet"}},
}
# HL7 Immunization "example" (Fluvax, lot AAJN11K) as an influenza vaccination.
IMMUNIZATION = {
    "resourceType": "Immunization",
    "status": "completed",
    "vaccineCode": {
        "coding": [{"system": SNOMED, "code": "86198006", "display": "Influenza vaccination"}],
        "text": "Fluvax (Influenza)",
    },
    "patient": {"reference": PATIENT_URL},
    "occurrenceDateTime": "2013-01-10",
    "primarySource": True,
    "lotNumber": "AAJN11K",
    "protocolApplied": [{"doseNumberPositiveInt": 1}],
}


def bundle(*clinical: dict, patient: dict = PATIENT, conditional: bool = True) -> dict:
    request = {"method": "POST", "url": "Patient"}
    if conditional:
        request["ifNoneExist"] = f"identifier={NHS}|{NHS_NUMBER}"
    entries = [{"fullUrl": PATIENT_URL, "resource": patient, "request": request}]
    entries += [
        {"resource": r, "request": {"method": "POST", "url": r["resourceType"]}} for r in clinical
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": copy.deepcopy(entries)}


EVERYTHING = (CONDITION, BLOOD_PRESSURE, ALLERGY, MEDICATION, IMMUNIZATION)


@pytest.fixture
def registered(client, receptionist):
    """Reception has registered the patient (GPs may not register: register_patients)."""
    response = FHIRClient(client, receptionist).post("", bundle())
    assert response.fhir["entry"][0]["response"]["status"] == "201 Created"
    return Patient.objects.get(nhs_number=NHS_NUMBER)


@pytest.fixture
def importer(client, gp, registered):
    """The GP imports the record; the Bundle's Patient matches the one registered."""
    return FHIRClient(client, gp)


def _counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (Patient, Problem, Observation, Allergy, Medication, Immunisation)
    )


def test_import_finds_the_patient_and_creates_their_record_with_original_dates(importer, practice):
    response = importer.post("", bundle(*EVERYTHING))
    assert response.status_code == 200, response.content[:500]
    body = response.fhir
    assert body["type"] == "transaction-response"
    assert [e["response"]["status"] for e in body["entry"]] == ["200 OK"] + ["201 Created"] * 5

    patient = Patient.objects.get(nhs_number=NHS_NUMBER)
    assert (patient.practice, patient.family_name, patient.date_of_birth) == (
        practice,
        "Chalmers",
        date(1974, 12, 25),
    )
    assert body["entry"][0]["response"]["location"] == f"Patient/{patient.pk}"
    problem = Problem.objects.get(patient=patient)
    assert (problem.concept.code, problem.onset, problem.retrospective) == (
        "59621000",
        date(2012, 5, 24),
        True,
    )
    bp = Observation.objects.get(patient=patient, kind="bp")
    assert (bp.value, bp.value2, bp.retrospective) == (107, 60, True)
    assert timezone.localdate(bp.occurred_at) == date(2012, 9, 17)
    allergy = Allergy.objects.get(patient=patient)
    assert (allergy.substance.code, allergy.reaction.code, allergy.severity) == (
        "764146007",
        "39579001",
        "severe",
    )
    medicine = Medication.objects.get(patient=patient)
    assert (medicine.kind, medicine.issues_allowed, medicine.quantity) == ("repeat", 6, 28)
    jab = Immunisation.objects.get(patient=patient)
    assert (jab.batch, jab.occurred_at.year, jab.retrospective) == ("AAJN11K", 2013, True)
    assert AuditEvent.objects.filter(action="register_patient", patient_id=patient.pk).exists()


def test_imported_record_reads_back_through_everything(importer):
    importer.post("", bundle(*EVERYTHING))
    patient = Patient.objects.get(nhs_number=NHS_NUMBER)
    everything = importer.get(f"Patient/{patient.pk}/$everything").fhir
    types = {e["resource"]["resourceType"] for e in everything["entry"]}
    assert types == {
        "Patient",
        "Condition",
        "Observation",
        "AllergyIntolerance",
        "MedicationRequest",
        "Immunization",
    }


def test_reimport_creates_nothing_new(importer):
    first = importer.post("", bundle(*EVERYTHING)).fhir
    counts = _counts()
    again = importer.post("", bundle(*EVERYTHING))
    assert again.status_code == 200
    assert _counts() == counts
    assert [e["response"]["status"] for e in again.fhir["entry"]] == ["200 OK"] * 6
    assert [e["response"]["location"] for e in again.fhir["entry"]] == [
        e["response"]["location"] for e in first["entry"]
    ]


def test_code_we_do_not_ship_is_422_naming_it_and_nothing_is_written(importer):
    burn = copy.deepcopy(CONDITION)
    burn["code"] = {"coding": [{"system": SNOMED, "code": "39065001", "display": "Burn of ear"}]}
    diagnostics = outcome(importer.post("", bundle(BLOOD_PRESSURE, burn)), 422)
    assert "39065001" in diagnostics
    assert _counts() == (1, 0, 0, 0, 0, 0)


def test_a_refused_entry_late_in_the_bundle_rolls_back_everything(importer):
    not_a_vaccine = IMMUNIZATION | {"vaccineCode": CONDITION["code"]}
    diagnostics = outcome(importer.post("", bundle(CONDITION, BLOOD_PRESSURE, not_a_vaccine)), 422)
    assert "entry 3" in diagnostics and "vaccineCode" in diagnostics
    assert _counts() == (1, 0, 0, 0, 0, 0)
    assert not AuditEvent.objects.filter(action__in=["add_problem", "record_observation"]).exists()


def test_a_refused_entry_rolls_back_the_registration_in_the_same_bundle(client, receptionist):
    outcome(FHIRClient(client, receptionist).post("", bundle(IMMUNIZATION)), 403)
    assert _counts() == (0, 0, 0, 0, 0, 0)
    assert not AuditEvent.objects.filter(action="register_patient").exists()


POST = {"method": "POST", "url": "Patient"}


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"type": "batch"}, 400),
        ({"resourceType": "Patient"}, 400),
        ({"entry": [{"resource": {"resourceType": "Encounter"}, "request": POST}]}, 422),
        ({"entry": [{"resource": PATIENT}]}, 400),
        ({"entry": [{"resource": {"resourceType": "Patient", "gender": 7}, "request": POST}]}, 422),
        ({"entry": "lots"}, 400),
    ],
)
def test_bundles_we_cannot_take_are_refused(importer, change, status):
    outcome(importer.post("", bundle(CONDITION) | change), status)
    assert _counts() == (1, 0, 0, 0, 0, 0)


def test_reference_to_a_patient_not_in_the_bundle_is_422(importer):
    stray = copy.deepcopy(CONDITION)
    stray["subject"] = {"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"}
    outcome(importer.post("", bundle(stray)), 422)
    assert _counts() == (1, 0, 0, 0, 0, 0)


def test_observation_in_a_unit_of_something_else_is_422(importer):
    kg = copy.deepcopy(BLOOD_PRESSURE)
    kg["component"][0]["valueQuantity"] = {"value": 14, "system": UCUM, "code": "kg"}
    assert "'kg'" in outcome(importer.post("", bundle(kg)), 422)


def test_blood_pressure_in_kilopascals_is_converted_to_mmhg(importer):
    kpa = copy.deepcopy(BLOOD_PRESSURE)
    kpa["component"][0]["valueQuantity"] = {"value": 14, "system": UCUM, "code": "kPa"}
    assert importer.post("", bundle(kpa)).status_code == 200
    assert Observation.objects.get(kind="bp").value == Decimal("105.01")


def test_malformed_json_is_400(importer):
    outcome(importer.post("", "{nope"), 400)


def test_reception_may_not_import_records(client, practice):
    reception = FHIRClient(client, UserFactory(practice=practice))
    outcome(reception.post("", bundle(CONDITION)), 403)
    assert not Patient.objects.exists()
