"""A GP starts a consultation from their list, codes what they find, and sees it on the summary."""

import re

import pytest
from playwright.sync_api import Page, expect

from steadfast.appointments import services as appointments
from steadfast.appointments.models import Appointment, AppointmentStatus
from tests.browser.signing_in import log_in
from tests.factories import (
    GPFactory,
    PatientFactory,
    SlotFactory,
    london,
    tomorrow,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_gp_records_problem_blood_pressure_and_repeat_and_sees_them_on_the_summary(page: Page):
    gp = GPFactory(username="dr-okafor", first_name="Amara", last_name="Okafor")
    patient = PatientFactory(
        practice=gp.practice, family_name="Fairweather", given_name="Imogen", title="Ms"
    )
    slot = SlotFactory(clinician=gp, start=london(tomorrow(), 9))
    appt = appointments.book_appointment(slot.pk, patient, gp, reason="Blood pressure check")

    log_in(page, gp)
    page.goto(f"/appointments/my-list/?date={tomorrow().isoformat()}")
    page.get_by_role("link", name="Start consultation with FAIRWEATHER, Imogen (Ms)").click()
    expect(page.get_by_role("heading", name=re.compile("^Consultation"))).to_be_visible()

    page.get_by_label("History").fill("Home readings around 160/95 for a month.")
    page.get_by_label("Problem (SNOMED CT)").fill("essential hyp")
    page.get_by_role("radio", name=re.compile("^Essential hypertension")).check()
    page.get_by_label("Problem significance").select_option("major")
    page.get_by_label("Systolic (mmHg)").fill("162")
    page.get_by_label("Diastolic (mmHg)").fill("98")
    page.get_by_label("Medicine (dm+d)").fill("amlodipine 5")
    page.get_by_role("radio", name=re.compile("^Amlodipine 5mg tablets")).check()
    page.get_by_label("Acute or repeat").select_option("repeat")
    page.get_by_label("Dose").fill("One tablet daily")
    page.get_by_label("Quantity", exact=True).fill("28")
    page.get_by_label("Issues allowed").fill("6")
    page.get_by_role("button", name="Save consultation").click()

    expect(page.get_by_text("Consultation saved.")).to_be_visible()
    expect(page.locator("#problems")).to_contain_text("Essential hypertension")
    expect(page.locator("#observations")).to_contain_text("162/98 mmHg")
    expect(page.locator("#repeats")).to_contain_text("Amlodipine 5mg tablets")
    expect(page.locator("#repeats")).to_contain_text("issue 1 of 6")
    assert Appointment.objects.get(pk=appt.pk).status == AppointmentStatus.FINISHED
