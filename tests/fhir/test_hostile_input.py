"""Input meant to break the server gets a clear OperationOutcome, never a 500: bodies too big or
too deep, partial dates, paging past any sane end, methods the API does not take, hidden
characters in names."""

import json
from datetime import date

import pytest
from django.conf import settings

from steadfast.fhir.body import MAX_DEPTH
from steadfast.fhir.search import MAX_COUNT, MAX_OFFSET
from steadfast.patients.models import Patient
from tests.factories import PatientFactory, UserFactory
from tests.fhir.helpers import FHIRClient, outcome

NHS = "https://fhir.nhs.uk/Id/nhs-number"


def new_patient(**changes) -> dict:
    return {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Okafor", "given": ["Chidi"]}],
        "gender": "male",
        "birthDate": "1985-03-02",
        "address": [{"use": "home", "line": ["3 Mill Lane"], "postalCode": "LS2 7AR"}],
    } | changes


@pytest.fixture
def registrar(client, practice):
    return FHIRClient(client, UserFactory(practice=practice, role="practice_manager"))


@pytest.fixture
def importer(client, gp):
    return FHIRClient(client, gp)


@pytest.mark.parametrize(("who", "path"), [("registrar", "Patient"), ("importer", "")])
def test_body_over_the_size_limit_is_413(request, who, path):
    """A Patient, and a transaction Bundle."""
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    body = json.dumps(new_patient(text={"status": "generated", "div": padding}))
    response = request.getfixturevalue(who).post(path, body)
    assert "larger than" in outcome(response, 413)
    assert response.fhir["issue"][0]["code"] == "too-long"
    assert not Patient.objects.exists()


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_body_nested_too_deeply_is_400(registrar, importer, depth):
    nested = "[" * depth + "]" * depth
    body = f'{{"resourceType": "Patient", "extension": {nested}}}'
    assert "nested deeper" in outcome(registrar.post("Patient", body), 400)
    bundle = f'{{"resourceType": "Bundle", "type": "transaction", "entry": {nested}}}'
    assert "nested deeper" in outcome(importer.post("", bundle), 400)


@pytest.mark.parametrize("born", ["1970", "1970-11"])
def test_partial_birth_date_is_422_asking_for_the_full_date(registrar, born):
    response = registrar.post("Patient", new_patient(birthDate=born))
    assert "full date of birth" in outcome(response, 422)
    assert not Patient.objects.exists()


def test_partial_birth_date_in_a_bundle_is_422_and_nothing_is_written(importer):
    entry = {"resource": new_patient(birthDate="1970"), "request": {"method": "POST"}}
    entry["request"]["url"] = "Patient"
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}
    assert "full date of birth" in outcome(importer.post("", bundle), 422)
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("birthdate=1970", {"Winterbottom", "Novemberborn", "Decemberborn"}),
        ("birthdate=1970-11", {"Winterbottom", "Novemberborn"}),
        ("birthdate=1970-12", {"Decemberborn"}),
        ("birthdate=ge1970-12", {"Decemberborn", "Later"}),
        ("birthdate=lt1970-11", set()),
        ("birthdate=le1970", {"Winterbottom", "Novemberborn", "Decemberborn"}),
    ],
)
def test_search_by_a_partial_date_covers_the_month_or_year(api, patient, query, found):
    PatientFactory(
        practice=patient.practice, family_name="Novemberborn", date_of_birth=date(1970, 11, 30)
    )
    PatientFactory(
        practice=patient.practice, family_name="Decemberborn", date_of_birth=date(1970, 12, 31)
    )
    PatientFactory(practice=patient.practice, family_name="Later", date_of_birth=date(1971, 1, 1))
    bundle = api.get(f"Patient?{query}").fhir
    assert {e["resource"]["name"][0]["family"] for e in bundle.get("entry", [])} == found


@pytest.mark.parametrize(
    "query",
    [
        f"Patient?_offset={MAX_OFFSET + 1}",
        "Patient?_offset=9223372036854775808",
        "Slot?_offset=99999999999999999999",
        f"Patient?_count={MAX_COUNT + 1}",
        "Slot?_count=99999999999999999999",
        "Slot?_count=１２",  # full-width digits are digits to str.isdigit, not to a database
    ],
)
def test_paging_beyond_range_is_400(api, patient, query):
    assert "_" in outcome(api.get(query), 400)


def test_paging_at_the_edge_of_the_range_is_answered(api, patient):
    bundle = api.get(f"Patient?_offset={MAX_OFFSET}&_count={MAX_COUNT}").fhir
    assert bundle["total"] == 1 and "entry" not in bundle


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "Patient/{id}"),
        ("patch", "Patient/{id}"),
        ("put", "Patient/{id}"),
        ("options", "Patient/{id}"),
        ("delete", "Patient"),
        ("options", "metadata"),
        ("delete", "metadata"),
        ("TRACE", "Patient"),
        ("PROPFIND", "Slot"),
        ("options", "Nothing/here"),
    ],
)
def test_unsupported_methods_are_405_operation_outcomes(api, patient, method, path):
    url = f"/fhir/{path.format(id=patient.pk)}"
    headers = {"Authorization": f"Bearer {api.token}"}
    if method.islower():
        response = getattr(api.client, method)(url, headers=headers)
    else:
        response = api.client.generic(method, url, headers=headers)
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/fhir+json")
    body = json.loads(response.content)
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "not-supported"
    assert method.upper() in body["issue"][0]["diagnostics"]
    assert response["Allow"]
    assert Patient.objects.filter(pk=patient.pk).exists()


@pytest.mark.parametrize(
    "name",
    [
        {"family": "Okafor\u202erosserpmI", "given": ["Chidi"]},  # right-to-left override
        {"family": "Okafor", "given": ["Chi\u0008di"]},  # a backspace
        {"family": "Okafor", "given": ["Chidi"], "prefix": ["Mr\u2067"]},  # a bidi isolate
    ],
)
def test_names_with_control_or_direction_characters_are_422(registrar, name):
    response = registrar.post("Patient", new_patient(name=[name | {"use": "official"}]))
    assert "hidden control or text-direction characters" in outcome(response, 422)
    assert not Patient.objects.exists()


def test_a_null_among_address_lines_is_not_a_500(registrar):
    """Found by the fuzzing pass: FHIR lets an array hold `null` (an element with only an
    extension); the registration's address lines raised a TypeError on it."""
    address = [{"use": "home", "line": [None, "3 Mill Lane"], "postalCode": "LS2 7AR"}]
    response = registrar.post("Patient", json.dumps(new_patient(address=address)))
    assert response.status_code == 201
    assert Patient.objects.get().address_line1 == "3 Mill Lane"
