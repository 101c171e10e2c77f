"""The pages the roles table promised (issue 17), as the people who use them; every page here
also passes page_checks (axe-core WCAG 2.2 AA, no markup shown as text)."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from steadfast.accounts.models import Role, User
from steadfast.appointments import services as appointments
from steadfast.appointments.models import Appointment, AppointmentStatus
from steadfast.practices.models import SessionTemplate
from tests.factories import GPFactory, PatientFactory, SlotFactory, UserFactory, london, tomorrow
from tests.records.entries import record_entries

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def manager():
    return UserFactory(role=Role.PRACTICE_MANAGER, first_name="Priya", last_name="Shah")


def test_a_manager_adds_a_nurse_and_disables_an_account(page: Page, sign_in, manager):
    leaver = UserFactory(practice=manager.practice, first_name="Tom", last_name="Leaver")
    sign_in(manager)
    page.get_by_role("link", name="Staff").click()
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Byrne")
    page.get_by_label("Username").fill("abyrne")
    page.get_by_label("Role").select_option(label="Practice nurse")
    page.get_by_role("button", name="Add member of staff").click()
    expect(page.get_by_role("heading", name="Staff added")).to_be_visible()
    expect(page.locator("#one-time-password")).not_to_be_empty()
    assert User.objects.get(username="abyrne").role == Role.NURSE

    page.goto("/accounts/staff/")
    page.get_by_role("link", name=leaver.display_name).click()
    page.get_by_role("button", name="Disable account").click()
    expect(page.get_by_text(f"{leaver.display_name} can no longer sign in.")).to_be_visible()
    leaver.refresh_from_db()
    assert not leaver.is_active


def test_a_manager_previews_and_saves_a_weekly_session(page: Page, sign_in, manager):
    gp = GPFactory(practice=manager.practice, last_name="Okafor")
    sign_in(manager)
    page.get_by_role("link", name="Rotas").click()
    page.get_by_label("Clinician").select_option(label=gp.display_name)
    page.get_by_label("Day of the week").select_option(label="Tuesday")
    page.get_by_label("Starts").fill("09:00")
    page.get_by_label("Ends").fill("10:30")
    page.get_by_label("Slot length in minutes").fill("15")
    page.get_by_label("Face to face, phone or video").select_option(label="Telephone")
    page.get_by_role("button", name="Preview slots").click()
    expect(page.locator("#preview")).to_contain_text("This session makes 6 slots each week")
    expect(page.locator("#preview")).to_contain_text("10:15")
    page.get_by_role("button", name="Save session").click()
    expect(page.get_by_text(re.compile(r"Session saved: \d+ new slots"))).to_be_visible()
    expect(page.locator("#rota")).to_contain_text("6 × 15 min")
    assert SessionTemplate.objects.get(clinician=gp).delivery_mode == "telephone"


def test_a_gp_reads_the_weekly_report_and_downloads_it(page: Page, sign_in):
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    slot = SlotFactory(clinician=gp, start=timezone.now() - timedelta(days=2))
    Appointment.objects.create(
        practice=gp.practice,
        slot=slot,
        patient=patient,
        status=AppointmentStatus.DID_NOT_ATTEND,
        booked_by=gp,
        booked_at=slot.start - timedelta(days=3),
        status_changed_at=slot.start,
    )
    sign_in(gp)
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("img", name="Appointments per week, by mode")).to_be_visible()
    expect(page.locator("#dna-rate")).to_have_text("100.0%")
    expect(page.locator("#lead-times")).to_contain_text("2 to 7 days")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV (spreadsheet)").click()
    assert "Week starting" in Path(download.value.path()).read_text()


def test_reception_corrects_an_address_and_records_a_death(page: Page, sign_in):
    reception = UserFactory()
    gp = GPFactory(practice=reception.practice)
    patient = PatientFactory(practice=reception.practice, address_line1="2 Park Row")
    appointments.book_appointment(
        SlotFactory(clinician=gp, start=london(tomorrow(), 9)).pk, patient, reception
    )
    sign_in(reception)
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Change details").click()
    page.get_by_label("Address line 1").fill("9 Mill Lane")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("Details changed.")).to_be_visible()
    page.get_by_text(re.compile("^Earlier details")).click()
    expect(page.locator("#details-history")).to_contain_text("address line1 was “2 Park Row”")

    page.get_by_role("link", name="Record a deduction or death").click()
    expect(page.locator("#to-cancel")).to_contain_text(gp.display_name)
    page.get_by_role("radio", name="They have died").check()
    today = timezone.localdate()
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.get_by_role("button", name="Record and cancel their appointments").click()
    expect(page.get_by_role("heading", name="Registration ended")).to_be_visible()
    expect(page.locator("#cancelled")).to_contain_text(gp.display_name)
    assert not Appointment.objects.filter(patient=patient, status="booked").exists()


def test_a_manager_exports_a_record_as_a_fhir_bundle(page: Page, sign_in, manager):
    gp = GPFactory(practice=manager.practice)
    patient = PatientFactory(practice=manager.practice)
    record_entries(patient, gp)
    sign_in(manager)
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Export the record").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the record (FHIR JSON)").click()
    bundle = json.loads(Path(download.value.path()).read_text())
    assert bundle["resourceType"] == "Bundle"
    assert bundle["entry"][0]["resource"]["resourceType"] == "Patient"
