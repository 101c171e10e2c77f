"""Booking, reading, searching, cancelling and amending appointments through the API."""

import pytest

from steadfast.appointments.models import Appointment, Slot, SlotStatus
from steadfast.audit.models import AuditEvent
from tests.factories import PatientFactory, SlotFactory, UserFactory
from tests.fhir.helpers import FHIRClient, ids, outcome


def booking(slot, patient, **extra) -> dict:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{slot.pk}"}],
        "participant": [{"actor": {"reference": f"Patient/{patient.pk}"}, "status": "accepted"}],
        **extra,
    }


@pytest.fixture
def slot(gp):
    return SlotFactory(clinician=gp)


def test_booking_returns_201_location_and_etag(api, slot, patient, receptionist):
    response = api.post("Appointment", booking(slot, patient, description="Sore knee"))
    assert response.status_code == 201
    appt = Appointment.objects.get(slot=slot)
    assert response["Location"].endswith(f"/fhir/Appointment/{appt.pk}/_history/1")
    assert response["ETag"] == 'W/"1"'
    assert response.fhir["status"] == "booked" and response.fhir["description"] == "Sore knee"
    assert (appt.patient, appt.booked_by, appt.reason) == (patient, receptionist, "Sore knee")
    assert Slot.objects.get(pk=slot.pk).status == SlotStatus.BOOKED


def test_second_booking_of_the_same_slot_is_409(api, slot, patient, practice):
    assert api.post("Appointment", booking(slot, patient)).status_code == 201
    other = PatientFactory(practice=practice)
    assert "no longer available" in outcome(api.post("Appointment", booking(slot, other)), 409)
    assert Appointment.objects.filter(slot=slot).count() == 1


@pytest.mark.parametrize(
    "broken",
    [
        {"slot": []},
        {"participant": [{"actor": {"reference": "Practitioner/1"}, "status": "accepted"}]},
        {"slot": [{"reference": "Slot/00000000-0000-0000-0000-000000000000"}]},
        {"status": "cancelled"},
    ],
)
def test_booking_that_cannot_be_processed_is_422(api, slot, patient, broken):
    outcome(api.post("Appointment", booking(slot, patient) | broken), 422)
    assert not Appointment.objects.exists()


def test_booking_another_practices_slot_or_patient_fails(api, slot, patient):
    outcome(api.post("Appointment", booking(SlotFactory(), patient)), 422)
    outcome(api.post("Appointment", booking(slot, PatientFactory())), 422)


@pytest.fixture
def booked(api, slot, patient):
    return api.post("Appointment", booking(slot, patient)).fhir


def test_read_appointment_has_etag_and_is_audited(api, booked, patient, receptionist):
    response = api.get(f"Appointment/{booked['id']}")
    assert response.fhir["participant"][0]["actor"]["reference"] == f"Patient/{patient.pk}"
    assert response["ETag"] == 'W/"1"'
    assert AuditEvent.objects.filter(
        action="view_appointment", patient_id=patient.pk, user_id=receptionist.pk
    ).exists()


def test_search_by_patient_and_date_with_patient_included(api, booked, patient, slot):
    day = slot.start.date().isoformat()
    bundle = api.get(f"Appointment?patient=Patient/{patient.pk}&_include=Appointment:patient").fhir
    assert ids(bundle, "Appointment") == [booked["id"]]
    assert ids(bundle, "Patient", mode="include") == [str(patient.pk)]
    assert ids(api.get(f"Appointment?date={day}").fhir, "Appointment") == [booked["id"]]
    assert api.get("Appointment?date=2001-01-01").fhir["total"] == 0
    assert api.get(f"Appointment?patient={PatientFactory().pk}").fhir["total"] == 0


def cancelled(resource: dict) -> dict:
    return resource | {"status": "cancelled", "cancelationReason": {"text": "Feeling better"}}


def test_cancelling_frees_the_slot(api, booked, slot):
    response = api.put(f"Appointment/{booked['id']}", cancelled(booked), **{"If-Match": 'W/"1"'})
    assert response.status_code == 200
    assert response.fhir["status"] == "cancelled"
    assert response["ETag"] == 'W/"2"'
    appt = Appointment.objects.get(pk=booked["id"])
    assert appt.cancellation_reason == "Feeling better"
    assert Slot.objects.get(pk=slot.pk).status == SlotStatus.FREE
    assert ids(api.get("Slot?status=free").fhir, "Slot") == [str(slot.pk)]


def test_cancelling_needs_a_reason(api, booked):
    outcome(api.put(f"Appointment/{booked['id']}", booked | {"status": "cancelled"}), 422)


def test_amending_description_and_comment(api, booked):
    changed = booked | {"description": "Knee, worse", "comment": "Bring scan"}
    response = api.put(f"Appointment/{booked['id']}", changed)
    assert response.fhir["description"] == "Knee, worse"
    assert response.fhir["comment"] == "Bring scan"
    assert response.fhir["meta"]["versionId"] == "2"
    appt = Appointment.objects.get(pk=booked["id"])
    assert (appt.reason, appt.comment, appt.version) == ("Knee, worse", "Bring scan", 2)


def test_stale_if_match_is_412_and_changes_nothing(api, booked):
    api.put(f"Appointment/{booked['id']}", booked | {"comment": "first"})
    stale = api.put(f"Appointment/{booked['id']}", cancelled(booked), **{"If-Match": 'W/"1"'})
    outcome(stale, 412)
    assert Appointment.objects.get(pk=booked["id"]).status == "booked"
    outcome(api.put(f"Appointment/{booked['id']}", booked, **{"If-Match": "nonsense"}), 400)


def test_put_cannot_move_or_reassign(api, booked, gp, practice):
    other_slot = SlotFactory(clinician=gp)
    moved = booked | {"slot": [{"reference": f"Slot/{other_slot.pk}"}]}
    outcome(api.put(f"Appointment/{booked['id']}", moved), 422)
    outcome(api.put("Appointment/00000000-0000-0000-0000-000000000000", booked), 404)
    other = api.post("Appointment", booking(other_slot, PatientFactory(practice=practice))).fhir
    outcome(api.put(f"Appointment/{other['id']}", booked), 400)  # body's id is another's
    outcome(api.put(f"Appointment/{booked['id']}", booked | {"status": "fulfilled"}), 422)


def test_only_booking_roles_may_book(client, practice, slot, patient):
    admin = FHIRClient(client, UserFactory(practice=practice, role="admin"))
    outcome(admin.post("Appointment", booking(slot, patient)), 403)
