"""A UK Core Patient's extensions, next of kin and languages are kept, given back as sent and
shown on the patient page; what the register cannot hold is named in a warning, never dropped
silently."""

import copy

import pytest

from steadfast.patients.models import Patient
from tests.factories import force_login_verified
from tests.fhir.helpers import FHIRClient
from tests.fhir.ukcore import NHS, PATIENT, PATIENT_WITH_UK_CORE_DETAILS, transaction
from tests.fhir.ukcore import NHS_NUMBER as PATIENT_NHS_NUMBER


@pytest.fixture
def importer(client, receptionist):
    """Patients come in by reception's Bundles (register_patients)."""
    return FHIRClient(client, receptionist)


def test_patient_round_trip_returns_every_extension_contact_and_language(api):
    response = api.post("Patient", PATIENT_WITH_UK_CORE_DETAILS)
    assert response.status_code == 201, response.content[:500]
    back = api.get(response["Location"].split("/fhir/")[1]).fhir
    sent = PATIENT_WITH_UK_CORE_DETAILS
    assert back["extension"] == sent["extension"]
    assert back["identifier"] == sent["identifier"]  # with its verification status
    assert back["contact"] == sent["contact"]
    assert back["communication"] == sent["communication"]


def test_patient_in_a_transaction_keeps_its_uk_core_details(importer):
    importer.post("", transaction(patient=PATIENT_WITH_UK_CORE_DETAILS))
    shown = Patient.objects.get().uk_core_details
    assert shown.ethnic_category == "Mixed - Any other mixed background"
    assert shown.interpreter_required is True
    assert shown.languages == ["British Sign Language (preferred)"]
    assert shown.nhs_number_verification == "Number present and verified"
    assert shown.contact_preference == "Telephone, Large print"
    assert shown.death_notification_status == "Removed"
    assert shown.residential_status == "UK Resident"
    assert [(c.name, c.relationship, c.phone) for c in shown.contacts] == [
        ("Katherine Johnson", "Personal relationship with the patient", "07700 900123")
    ]


def test_patient_page_shows_interpreter_languages_and_next_of_kin(importer, client, gp):
    importer.post("", transaction(patient=PATIENT_WITH_UK_CORE_DETAILS))
    patient = Patient.objects.get()
    force_login_verified(client, gp)
    response = client.get(f"/patients/{patient.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    for shown in (
        "Needs an interpreter",
        "British Sign Language",
        "Katherine Johnson, 07700 900123",
        "Mixed - Any other mixed background",
    ):
        assert shown in page


WITH_PHOTO = copy.deepcopy(PATIENT) | {
    "photo": [{"contentType": "image/png", "data": "iVBORw0KGgo="}],
    "maritalStatus": {"text": "Married"},
}


def test_what_the_register_cannot_hold_is_named_in_a_warning(importer):
    with_photo = WITH_PHOTO
    response = importer.post("", transaction(patient=with_photo))
    assert response.status_code == 200
    issue = response.fhir["entry"][0]["response"]["outcome"]["issue"][0]
    assert issue["severity"] == "warning"
    assert "maritalStatus" in issue["diagnostics"] and "photo" in issue["diagnostics"]


def test_a_create_asked_to_return_an_outcome_names_what_was_not_held(api):
    created = api.post("Patient", WITH_PHOTO, Prefer="return=OperationOutcome")
    assert created.status_code == 201
    assert "photo" in created.fhir["issue"][0]["diagnostics"]


def test_conditional_create_returns_the_patient_already_registered(api):
    first = api.post("Patient", PATIENT)
    again = api.post(
        "Patient", PATIENT, **{"If-None-Exist": f"identifier={NHS}|{PATIENT_NHS_NUMBER}"}
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.fhir["id"] == first.fhir["id"]
    assert Patient.objects.count() == 1


def test_capability_statement_declares_uk_core_profiles_and_the_transaction(api):
    statement = api.get("metadata").fhir
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert resources["Condition"]["profile"] == (
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Condition"
    )
    assert (
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation-VitalSigns-OxygenSaturation"
        in resources["Observation"]["supportedProfile"]
    )
    assert resources["Patient"]["conditionalCreate"] is True
    assert statement["implementationGuide"] and statement["instantiates"]
    transaction_doc = statement["rest"][0]["interaction"][0]["documentation"]
    assert "MedicationRequest" in transaction_doc and "entered-in-error" in transaction_doc.lower()
