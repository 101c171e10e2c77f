"""Patients: details corrected with their history; deduction or death ends future bookings with
a list of what was cancelled; one patient's record exported as a FHIR Bundle (audited)."""

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from steadfast.accounts.models import Role
from steadfast.appointments import services as appointments
from steadfast.appointments.models import Appointment, AppointmentStatus
from steadfast.audit.models import AuditEvent
from steadfast.patients.models import RegistrationStatus
from tests.factories import (
    GPFactory,
    PatientFactory,
    SlotFactory,
    UserFactory,
    force_login_verified,
)
from tests.fhir.helpers import validate
from tests.records.entries import record_entries

pytestmark = pytest.mark.django_db


@pytest.fixture
def reception(client):
    user = UserFactory(role=Role.RECEPTIONIST)
    client.force_login(user)
    return user


def details_form(patient, **changes) -> dict:
    data = {
        "title": patient.title,
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "address_line1": patient.address_line1,
        "town": patient.town,
        "postcode": patient.postcode,
    }
    return data | changes


def test_changed_details_are_kept_with_what_they_were(client, reception):
    patient = PatientFactory(practice=reception.practice, address_line1="2 Park Row")
    url = f"/patients/{patient.pk}/details/"
    assert client.post(url, details_form(patient, address_line1="9 Mill Lane")).status_code == 302
    patient.refresh_from_db()
    assert patient.address_line1 == "9 Mill Lane"
    page = client.get(f"/patients/{patient.pk}/").content.decode()
    assert "address line1 was “2 Park Row”" in page
    assert AuditEvent.objects.filter(action="update_patient_details").exists()


def test_a_death_cancels_future_bookings_and_lists_them(client, reception):
    gp = GPFactory(practice=reception.practice)
    patient = PatientFactory(practice=reception.practice)
    booked = [
        appointments.book_appointment(SlotFactory(clinician=gp).pk, patient, reception)
        for _ in range(2)
    ]
    url = f"/patients/{patient.pk}/end-registration/"
    page = client.get(url).content.decode()
    assert page.count("<li>") >= 2 and "These appointments will be cancelled" in page
    today = timezone.localdate()
    response = client.post(
        url,
        {
            "what": "died",
            "on[day]": str(today.day),
            "on[month]": str(today.month),
            "on[year]": str(today.year),
        },
    )
    page = response.content.decode()
    assert "Registration ended" in page
    assert page.count(f"with {gp.display_name}") == 0  # listed in a table, by clinician
    assert page.count(gp.display_name) == 2
    patient.refresh_from_db()
    assert patient.registration_status == RegistrationStatus.DECEASED
    for appointment in booked:
        appointment.refresh_from_db()
        assert appointment.status == AppointmentStatus.CANCELLED
    assert not Appointment.objects.filter(patient=patient, status="booked").exists()


def test_a_deduction_needs_a_reason_and_no_future_date(client, reception):
    patient = PatientFactory(practice=reception.practice)
    url = f"/patients/{patient.pk}/end-registration/"
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(url, {"what": "deducted", "on": tomorrow.isoformat()})
    page = response.content.decode()
    assert "Enter the reason they left" in page
    response = client.post(
        url, {"what": "deducted", "on": tomorrow.isoformat(), "reason": "Moved to Leeds"}
    )
    assert "The date cannot be in the future" in response.content.decode()
    patient.refresh_from_db()
    assert patient.registration_status == RegistrationStatus.REGISTERED


def test_a_manager_exports_one_record_as_a_fhir_bundle_and_it_is_audited(client):
    manager = UserFactory(role=Role.PRACTICE_MANAGER)
    gp = GPFactory(practice=manager.practice)
    patient = PatientFactory(practice=manager.practice, date_of_birth=date(1970, 11, 24))
    record_entries(patient, gp)
    force_login_verified(client, manager)
    assert client.get(f"/patients/{patient.pk}/export/").status_code == 200
    response = client.post(f"/patients/{patient.pk}/export/")
    assert response["Content-Disposition"].startswith("attachment")
    bundle = json.loads(response.content)
    validate(bundle)
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Encounter", "MedicationRequest", "DocumentReference"} <= kinds
    assert AuditEvent.objects.filter(action="export_record", patient_id=patient.pk).exists()


def test_reception_may_not_export(client, reception):
    patient = PatientFactory(practice=reception.practice)
    assert client.post(f"/patients/{patient.pk}/export/").status_code == 403
