"""A FHIR booking retried with its Idempotency-Key or If-None-Exist is made once."""

import uuid

import pytest

from steadfast.appointments.models import Appointment
from tests.factories import PatientFactory, SlotFactory
from tests.fhir.helpers import outcome
from tests.fhir.test_appointment import booking

DOWNTIME = "urn:steadfast:downtime"


@pytest.fixture
def slot(gp):
    return SlotFactory(clinician=gp)


def test_retry_with_the_same_idempotency_key_returns_the_first_booking(api, slot, patient):
    key = str(uuid.uuid4())
    first = api.post("Appointment", booking(slot, patient), **{"Idempotency-Key": key})
    again = api.post("Appointment", booking(slot, patient), **{"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.fhir["id"] == first.fhir["id"]
    assert again.fhir["identifier"] == [{"system": "urn:steadfast:booking", "value": key}]
    assert Appointment.objects.filter(slot=slot).count() == 1


def test_conditional_create_on_an_identifier_books_once(api, slot, patient):
    condition = f"identifier={DOWNTIME}|{uuid.uuid4()}"
    first = api.post("Appointment", booking(slot, patient), **{"If-None-Exist": condition})
    again = api.post("Appointment", booking(slot, patient), **{"If-None-Exist": condition})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.fhir["id"] == first.fhir["id"]
    assert again.fhir["identifier"][0]["system"] == DOWNTIME
    read = api.get(f"Appointment/{first.fhir['id']}")
    assert read.fhir["identifier"] == again.fhir["identifier"]


def test_a_new_key_for_a_taken_slot_is_still_a_conflict(api, slot, patient):
    api.post("Appointment", booking(slot, patient), **{"Idempotency-Key": "one"})
    outcome(api.post("Appointment", booking(slot, patient), **{"Idempotency-Key": "two"}), 409)


def test_a_key_reused_for_another_patient_is_refused(api, slot, patient, practice, gp):
    api.post("Appointment", booking(slot, patient), **{"Idempotency-Key": "k1"})
    other = booking(SlotFactory(clinician=gp), PatientFactory(practice=practice))
    assert "another patient" in outcome(
        api.post("Appointment", other, **{"Idempotency-Key": "k1"}), 422
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"If-None-Exist": "name=smith"},
        {"If-None-Exist": "identifier=no-bar"},
        {"Idempotency-Key": " "},
        {"Idempotency-Key": "x" * 201},
        {"Idempotency-Key": "a", "If-None-Exist": "identifier=urn:other|b"},
    ],
)
def test_malformed_keys_are_400_and_book_nothing(api, slot, patient, headers):
    outcome(api.post("Appointment", booking(slot, patient), **headers), 400)
    assert not Appointment.objects.exists()


def test_capability_statement_says_appointment_create_may_be_conditional(api):
    rest = api.get("metadata").fhir["rest"][0]
    appointment = next(r for r in rest["resource"] if r["type"] == "Appointment")
    assert appointment["conditionalCreate"] is True
