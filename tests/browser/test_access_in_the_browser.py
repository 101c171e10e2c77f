"""Access control as staff meet it: reception is kept out of the clinical record; a GP opening a
restricted record must say why, and the practice manager is alerted."""

import re

import pytest
from playwright.sync_api import Page, expect

from steadfast.accounts.models import Role
from steadfast.records import services as records
from tests.factories import GPFactory, PatientFactory, PracticeFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_receptionist_cannot_reach_a_consultation(page: Page, sign_in):
    practice = PracticeFactory()
    gp = GPFactory(practice=practice)
    reception = UserFactory(practice=practice, role=Role.RECEPTIONIST)
    patient = PatientFactory(practice=practice, family_name="Fairweather", given_name="Imogen")
    consultation = records.save_consultation(
        patient, gp, records.ConsultationNote("face_to_face", history="Low mood for months.")
    )

    sign_in(reception)
    page.goto(f"/patients/{patient.pk}/")
    expect(page.get_by_role("heading", name=re.compile("FAIRWEATHER"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Journal|Summary"))).to_have_count(0)

    for path in ("", "journal/", f"consultations/{consultation.pk}/edit/"):
        response = page.goto(f"/record/patients/{patient.pk}/{path}")
        assert response.status == 403
        refused = page.get_by_role("heading", name="You do not have access to this page")
        expect(refused).to_be_visible()
        expect(page.get_by_text("Low mood for months.")).to_have_count(0)


def test_gp_breaking_the_glass_on_a_restricted_record_alerts_the_practice_manager(
    page: Page, sign_in
):
    practice = PracticeFactory()
    gp = GPFactory(practice=practice, first_name="Amara", last_name="Okafor")
    manager = UserFactory(practice=practice, role=Role.PRACTICE_MANAGER)
    PatientFactory(
        practice=practice, family_name="Lockwood", given_name="Harriet", is_sensitive=True
    )

    sign_in(gp)
    page.goto("/patients/")
    page.get_by_role("searchbox").fill("lockwood")
    page.get_by_role("searchbox").press("Enter")
    page.get_by_role("link", name=re.compile("LOCKWOOD, Harriet")).click()
    expect(page.get_by_role("heading", name="This record is restricted")).to_be_visible()

    page.get_by_role("button", name="Open the record").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter why you need to open this record")
    page.get_by_label("Why do you need to open this record?").fill(
        "Covering the duty doctor; patient rang about chest pain."
    )
    page.get_by_role("button", name="Open the record").click()
    expect(page.get_by_role("heading", name=re.compile("LOCKWOOD"))).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    sign_in(manager)
    page.get_by_role("link", name=re.compile(r"Audit \(1 alerts?\)")).click()
    alerts = page.get_by_role("table")
    expect(alerts).to_contain_text("Dr Amara Okafor")
    expect(alerts).to_contain_text("Covering the duty doctor; patient rang about chest pain.")
    expect(alerts).to_contain_text("LOCKWOOD, Harriet")
