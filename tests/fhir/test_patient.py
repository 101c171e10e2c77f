"""Patient read, search and registration through the API."""

from datetime import date

import pytest

from steadfast.audit.models import AuditEvent
from steadfast.patients.models import Patient
from tests.factories import PatientFactory, UserFactory
from tests.fhir.helpers import FHIRClient, ids, outcome

NHS = "https://fhir.nhs.uk/Id/nhs-number"


def test_read_patient_shows_nhs_number_and_is_audited(api, receptionist, patient):
    response = api.get(f"Patient/{patient.pk}")
    assert response.status_code == 200
    body = response.fhir
    assert body["identifier"] == [{"system": NHS, "value": patient.nhs_number}]
    assert body["name"][0]["family"] == "Winterbottom"
    assert body["birthDate"] == "1970-11-24"
    assert body["address"][0]["postalCode"] == "LS1 5HD"
    assert AuditEvent.objects.filter(
        action="view_patient", user_id=receptionist.pk, patient_id=patient.pk
    ).exists()


def test_restricted_record_is_refused_and_the_refusal_audited(api, receptionist, practice):
    hidden = PatientFactory(practice=practice, is_sensitive=True)
    assert "restricted" in outcome(api.get(f"Patient/{hidden.pk}"), 403)
    event = AuditEvent.objects.get(patient_id=hidden.pk, user_id=receptionist.pk)
    assert event.outcome == "denied"


@pytest.fixture
def register(practice):
    PatientFactory(practice=practice, given_name="Zoë", family_name="Ashworth", postcode="LS6 1AA")
    PatientFactory(practice=practice, given_name="Adam", family_name="Ashby", postcode="LS6 2BB")
    PatientFactory(
        practice=practice, given_name="Bea", family_name="Crane", date_of_birth=date(2001, 5, 6)
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("family=ash", {"Ashworth", "Ashby"}),
        ("given=zoe", {"Ashworth"}),
        ("name=ZO%C3%8B", {"Ashworth"}),
        ("name=ash&name=adam", {"Ashby"}),
        ("birthdate=2001-05-06", {"Crane"}),
        ("birthdate=ge2000-01-01", {"Crane"}),
        ("birthdate=lt1971-01-01&family=ash", {"Ashworth", "Ashby"}),
        ("address-postalcode=ls6", {"Ashworth", "Ashby"}),
        ("address-postalcode=LS6%201AA", {"Ashworth"}),
    ],
)
def test_search_patients(api, register, query, expected):
    bundle = api.get(f"Patient?{query}").fhir
    assert bundle["type"] == "searchset"
    assert {e["resource"]["name"][0]["family"] for e in bundle["entry"]} == expected
    assert bundle["total"] == len(expected)


def test_search_by_nhs_number_identifier(api, patient, register):
    for value in (f"{NHS}|{patient.nhs_number}", patient.nhs_number):
        bundle = api.get(f"Patient?identifier={value}").fhir
        assert ids(bundle, "Patient") == [str(patient.pk)]
    assert api.get(f"Patient?identifier={NHS}|9434765918").fhir["total"] == 0


def test_search_is_audited_without_identifying_detail(api, receptionist, register):
    api.get("Patient?family=ash")
    event = AuditEvent.objects.get(action="search_patients", user_id=receptionist.pk)
    assert "ash" not in event.detail.lower()


def _new_patient(**changes) -> dict:
    resource = {
        "resourceType": "Patient",
        "identifier": [{"system": NHS, "value": "9990000018"}],
        "name": [{"use": "official", "family": "Okafor", "given": ["Chidi"], "prefix": ["Mr"]}],
        "gender": "male",
        "birthDate": "1985-03-02",
        "address": [
            {"use": "home", "line": ["3 Mill Lane"], "city": "Leeds", "postalCode": "ls27ar"}
        ],
        "telecom": [{"system": "phone", "value": "0113 496 0000"}],
    }
    return resource | changes


@pytest.fixture
def registrar(client, practice):
    return FHIRClient(client, UserFactory(practice=practice, role="practice_manager"))


def test_create_patient_registers_them(registrar, practice):
    response = registrar.post("Patient", _new_patient())
    assert response.status_code == 201
    created = Patient.objects.get(nhs_number="9990000018")
    assert response["Location"].endswith(f"/fhir/Patient/{created.pk}")
    assert (created.practice, created.family_name, created.postcode) == (
        practice,
        "Okafor",
        "LS2 7AR",
    )
    assert response.fhir["id"] == str(created.pk)
    assert AuditEvent.objects.filter(action="register_patient", patient_id=created.pk).exists()


def test_registering_an_nhs_number_twice_is_409(registrar):
    assert registrar.post("Patient", _new_patient()).status_code == 201
    again = _new_patient(name=[{"family": "Other", "given": ["Person"]}])
    response = registrar.post("Patient", again)
    assert "already registered" in outcome(response, 409)
    assert response.fhir["issue"][0]["code"] == "duplicate"
    assert Patient.objects.filter(nhs_number="9990000018").count() == 1


def test_same_name_and_birth_date_is_409_as_the_api_cannot_ask_to_confirm(registrar):
    assert registrar.post("Patient", _new_patient()).status_code == 201
    twin = _new_patient(identifier=[{"system": NHS, "value": "9990000026"}])
    outcome(registrar.post("Patient", twin), 409)
    assert not Patient.objects.filter(nhs_number="9990000026").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"identifier": [{"system": NHS, "value": "9990000019"}]}, "nhs_number"),
        ({"address": [{"line": ["1 Road"], "postalCode": "NOT A CODE"}]}, "postcode"),
        ({"birthDate": "2999-01-01"}, "date_of_birth"),
        ({"name": [{"given": ["Only"]}]}, "family_name"),
    ],
)
def test_unacceptable_patient_is_422_and_not_registered(registrar, changes, field):
    assert field in outcome(registrar.post("Patient", _new_patient(**changes)), 422)
    assert not Patient.objects.filter(family_name="Okafor").exists()


def test_receptionist_cannot_register_through_a_role_without_it(client, practice):
    nurse = FHIRClient(client, UserFactory(practice=practice, role="nurse"))
    outcome(nurse.post("Patient", _new_patient()), 403)
