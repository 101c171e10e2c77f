"""Reports (run_reports): weekly appointments by mode, clinician type and status, the
did-not-attend rate, time from booking; CSV; a fixed number of queries however many."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from steadfast.accounts.models import Role
from steadfast.appointments.models import Appointment, AppointmentStatus
from steadfast.appointments.reports import appointment_report, week_start
from tests.factories import (
    GPFactory,
    PatientFactory,
    SlotFactory,
    UserFactory,
    force_login_verified,
)

pytestmark = pytest.mark.django_db


def appointment(slot, patient, status, booked_days_before=0):
    cancelled_by = "patient" if status == AppointmentStatus.CANCELLED else ""
    return Appointment.objects.create(
        cancelled_by=cancelled_by,
        practice=slot.practice,
        slot=slot,
        patient=patient,
        status=status,
        booked_by=slot.clinician,
        booked_at=slot.start - timedelta(days=booked_days_before, hours=1),
        status_changed_at=slot.start,
    )


@pytest.fixture
def last_week():
    gp = GPFactory()
    nurse = UserFactory(practice=gp.practice, role=Role.NURSE)
    patient = PatientFactory(practice=gp.practice)
    monday = week_start(timezone.localdate()) - timedelta(days=7)
    at = timezone.make_aware(timezone.datetime.combine(monday, timezone.datetime.min.time()))
    at += timedelta(hours=9)

    def slot(n, clinician=gp, mode="face_to_face"):
        return SlotFactory(
            clinician=clinician, start=at + timedelta(minutes=10 * n), delivery_mode=mode
        )

    appointment(slot(0), patient, AppointmentStatus.FINISHED, booked_days_before=0)
    appointment(slot(1), patient, AppointmentStatus.FINISHED, booked_days_before=3)
    appointment(slot(2, mode="telephone"), patient, AppointmentStatus.FINISHED, 10)
    appointment(slot(3, nurse), patient, AppointmentStatus.DID_NOT_ATTEND, 30)
    appointment(slot(4), patient, AppointmentStatus.CANCELLED, 1)
    return gp, monday


def test_a_week_is_counted_by_mode_clinician_status_and_time_from_booking(last_week):
    gp, monday = last_week
    report = appointment_report(gp.practice, monday, monday)
    ((week, f),) = report.weeks
    assert week == monday
    assert f.total == 4  # the cancelled one is not an appointment
    assert f.mode == {"face_to_face": 3, "telephone": 1}
    assert f.clinician_type == {Role.GP: 3, Role.NURSE: 1}
    assert f.status == {"attended": 3, "did_not_attend": 1}
    assert f.dna_rate == 0.25
    assert f.lead_time == {"same_day": 1, "2_7_days": 1, "8_14_days": 1, "over_28_days": 1}


def test_reports_page_shows_the_figures_and_downloads_csv(client, last_week):
    gp, monday = last_week
    manager = UserFactory(practice=gp.practice, role=Role.PRACTICE_MANAGER)
    force_login_verified(client, manager)
    page = client.get("/reports/").content.decode()
    assert '<svg class="sf-chart sf-chart--wide"' in page
    assert "25.0%" in page
    response = client.get("/reports/appointments.csv?weeks=4")
    assert response["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:2] == ["Week starting", "Appointments"]
    assert [monday.isoformat(), "4"] == rows[-2][:2]


def test_reports_page_costs_the_same_queries_however_many_appointments(client, last_week):
    gp, _ = last_week
    manager = UserFactory(practice=gp.practice, role=Role.PRACTICE_MANAGER)
    force_login_verified(client, manager)
    client.get("/reports/?weeks=52")
    with CaptureQueriesContext(connection) as few:
        client.get("/reports/?weeks=52")
    patient = PatientFactory(practice=gp.practice)
    for n in range(30):
        slot = SlotFactory(clinician=gp, start=timezone.now() - timedelta(days=n + 1))
        appointment(slot, patient, AppointmentStatus.FINISHED, n % 9)
    with CaptureQueriesContext(connection) as many:
        client.get("/reports/?weeks=52")
    assert len(many) == len(few)


def test_reception_may_not_run_reports(client, last_week):
    gp, _ = last_week
    client.force_login(UserFactory(practice=gp.practice, role=Role.RECEPTIONIST))
    assert client.get("/reports/").status_code == 403
