"""Every failure is an OperationOutcome with the right status; bad input is never a 500."""

import pytest

from tests.factories import GPFactory, UserFactory
from tests.fhir.helpers import FHIRClient, outcome


def test_metadata_needs_no_token_and_is_fhir_json(client):
    response = FHIRClient(client).get("metadata")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert response.fhir["resourceType"] == "CapabilityStatement"


def test_no_token_is_401_with_a_bearer_challenge(client, patient):
    response = FHIRClient(client).get(f"Patient/{patient.pk}")
    assert "Bearer" in outcome(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("token", ["nonsense", "", "a:b:c", "e30:1u:abc"])
def test_bad_or_forged_token_is_401(client, patient, token):
    outcome(FHIRClient(client, token=token or " ").get(f"Patient/{patient.pk}"), 401)


def test_token_of_a_deactivated_user_is_401(client, receptionist, patient):
    api = FHIRClient(client, receptionist)
    receptionist.is_active = False
    receptionist.save()
    outcome(api.get(f"Patient/{patient.pk}"), 401)


def test_signing_out_everywhere_ends_api_tokens_too(client, receptionist, patient):
    api = FHIRClient(client, receptionist)
    assert api.get(f"Patient/{patient.pk}").status_code == 200
    receptionist.session_generation += 1
    receptionist.save()
    outcome(api.get(f"Patient/{patient.pk}"), 401)


def test_expired_token_is_401(client, receptionist, patient, monkeypatch):
    api = FHIRClient(client, receptionist)
    monkeypatch.setattr("steadfast.fhir.auth.TOKEN_LIFETIME", __import__("datetime").timedelta(0))
    outcome(api.get(f"Patient/{patient.pk}"), 401)


def test_role_without_the_activity_is_403(client, practice, patient):
    admin = UserFactory(practice=practice, role="admin")
    assert "may not" in outcome(FHIRClient(client, admin).get(f"Patient/{patient.pk}"), 403)


def test_unknown_id_and_unknown_path_are_404(api):
    outcome(api.get("Patient/00000000-0000-0000-0000-000000000000"), 404)
    outcome(api.get("Patient/not-a-uuid"), 404)
    outcome(api.get("Slot/12"), 404)
    outcome(api.get("Practitioner/abc"), 404)
    outcome(api.get("Encounterish/1"), 404)
    outcome(api.post("Nothing", {"resourceType": "Basic"}), 404)


def test_malformed_json_is_400(api):
    assert "JSON" in outcome(api.post("Patient", "{not json"), 400)
    outcome(api.post("Patient", b"\xff\xfe"), 400)
    outcome(api.post("Patient", "[1, 2]"), 400)


def test_wrong_resource_type_is_400(api):
    outcome(api.post("Patient", {"resourceType": "Appointment"}), 400)


def test_body_that_is_not_json_media_type_is_415(api):
    outcome(api.post("Patient", "<Patient/>", content_type="application/fhir+xml"), 415)


def test_resource_that_is_not_valid_fhir_is_422(client, practice):
    manager = UserFactory(practice=practice, role="practice_manager")
    api = FHIRClient(client, manager)
    diagnostics = outcome(
        api.post("Patient", {"resourceType": "Patient", "gender": "sometimes", "birthDate": 7}),
        422,
    )
    assert "birthDate" in diagnostics


@pytest.mark.parametrize(
    "query",
    [
        "Slot?start=tomorrow",
        "Slot?start=ge2026-13-45",
        "Slot?start=sa2026-01-01",
        "Slot?start=ge9999-12-31",
        "Slot?status=maybe",
        "Slot?_count=-1",
        "Slot?_count=lots",
        "Slot?_offset=x",
        "Slot?colour=blue",
        "Slot?_include=Slot:practitioner",
        "Slot?schedule=Patient/1",
        "Patient?birthdate=1970-11-24T10:00",
        "Patient?identifier=http://example.org|1",
        "Appointment?date=yesterday",
    ],
)
def test_bad_search_parameters_are_400(api, query):
    outcome(api.get(query), 400)


def test_odd_but_harmless_values_are_not_errors(api):
    for query in ("Slot?schedule=abc", "Appointment?patient=zzz", "Patient?name=%00", "Slot?"):
        assert api.get(query).status_code == 200, query


def test_other_practices_data_is_invisible(client, patient):
    stranger = FHIRClient(client, UserFactory())  # a receptionist of another practice
    outcome(stranger.get(f"Patient/{patient.pk}"), 404)
    bundle = stranger.get(f"Patient?family={patient.family_name}").fhir
    assert bundle["total"] == 0


def test_gp_from_other_practice_is_not_a_practitioner_here(api):
    outcome(api.get(f"Practitioner/{GPFactory().pk}"), 404)
