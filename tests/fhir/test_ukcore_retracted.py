"""An entry the sender marked entered-in-error, refuted, not done or cancelled never becomes an
entry of the record: the Bundle is refused with an OperationOutcome saying why, and nothing
is written (no allergy to warn on, no problem on the summary)."""

import pytest

from steadfast.patients.models import Patient
from steadfast.records.models import Allergy, Immunisation, Medication, Observation, Problem
from tests.fhir.helpers import FHIRClient, outcome
from tests.fhir.ukcore import (
    ALLERGY_AMOXICILLIN,
    CONDITION_HYPERTENSION,
    IMMUNIZATION_INFLUENZA,
    MEDICATION_REQUEST_AMOXICILLIN,
    OBSERVATION_HEART_RATE,
    transaction,
    with_status,
)


@pytest.fixture
def importer(client, gp, receptionist):
    """Reception registers the patient (a GP may not: register_patients); the GP's Bundles
    then find them by NHS number and bring their record."""
    FHIRClient(client, receptionist).post("", transaction())
    return FHIRClient(client, gp)


def _nothing_written() -> bool:
    """Nothing beside the patient reception registered."""
    models = (Allergy, Problem, Observation, Immunisation, Medication)
    return Patient.objects.count() == 1 and not any(m.objects.exists() for m in models)


RETRACTED = [
    (ALLERGY_AMOXICILLIN, "verificationStatus", "entered-in-error"),
    (ALLERGY_AMOXICILLIN, "verificationStatus", "refuted"),
    (ALLERGY_AMOXICILLIN, "clinicalStatus", "resolved"),
    (CONDITION_HYPERTENSION, "verificationStatus", "entered-in-error"),
    (CONDITION_HYPERTENSION, "verificationStatus", "refuted"),
    (OBSERVATION_HEART_RATE, "status", "entered-in-error"),
    (OBSERVATION_HEART_RATE, "status", "cancelled"),
    (IMMUNIZATION_INFLUENZA, "status", "entered-in-error"),
    (IMMUNIZATION_INFLUENZA, "status", "not-done"),
    (MEDICATION_REQUEST_AMOXICILLIN, "status", "entered-in-error"),
    (MEDICATION_REQUEST_AMOXICILLIN, "status", "cancelled"),
    (MEDICATION_REQUEST_AMOXICILLIN, "intent", "option"),
]


@pytest.mark.parametrize(
    ("resource", "element", "code"),
    RETRACTED,
    ids=[f"{r['resourceType']}-{e}-{c}" for r, e, c in RETRACTED],
)
def test_retracted_resource_is_refused_and_nothing_is_written(importer, resource, element, code):
    response = importer.post("", transaction(with_status(resource, element, code)))
    diagnostics = outcome(response, 422)
    assert response.fhir["issue"][0]["code"] == "business-rule"
    assert "entry 1" in diagnostics and code in diagnostics and "refused" in diagnostics
    assert _nothing_written()


def test_entered_in_error_allergy_never_reads_back_as_an_allergy(importer, gp):
    """The UK Core EnteredInError example's case: amoxicillin, verificationStatus only."""
    retracted = with_status(ALLERGY_AMOXICILLIN, "verificationStatus", "entered-in-error")
    del retracted["clinicalStatus"]
    outcome(importer.post("", transaction(retracted)), 422)
    importer.post("", transaction())  # the patient alone goes in
    patient = Patient.objects.get()
    found = importer.get(f"AllergyIntolerance?patient=Patient/{patient.pk}").fhir
    assert found["total"] == 0
    assert not Allergy.objects.exists()


@pytest.mark.parametrize(
    "resource",
    [
        ALLERGY_AMOXICILLIN,
        CONDITION_HYPERTENSION,
        OBSERVATION_HEART_RATE,
        IMMUNIZATION_INFLUENZA,
        MEDICATION_REQUEST_AMOXICILLIN,
    ],
    ids=lambda r: r["resourceType"],
)
def test_the_same_resource_when_current_goes_in(importer, resource):
    response = importer.post("", transaction(resource))
    assert response.status_code == 200, response.content[:500]
    assert [e["response"]["status"] for e in response.fhir["entry"]] == ["200 OK", "201 Created"]
