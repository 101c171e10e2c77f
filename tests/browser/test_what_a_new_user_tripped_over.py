"""Issue 17's bugs that a person sees in the browser; each fails on the code before the fix.
(Every page here also passes page_checks: no markup shown as text, no serious axe violation.)"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from steadfast.accounts.models import Role
from steadfast.appointments import services as appointments
from steadfast.appointments.models import Appointment, AppointmentStatus
from steadfast.practices.models import SlotType
from steadfast.records import services as records
from steadfast.records.models import Concept, Consultation
from tests.browser.signing_in import log_in
from tests.factories import (
    GPFactory,
    PatientFactory,
    PracticeFactory,
    SlotFactory,
    UserFactory,
    london,
    tomorrow,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reception():
    return UserFactory(username="reception", practice=PracticeFactory())


def test_addresses_and_the_appointments_patient_show_as_lines_not_markup(page: Page, reception):
    """Bug 1: a literal <br> between address lines; raw HTML in the appointment's Patient row."""
    gp = GPFactory(practice=reception.practice)
    patient = PatientFactory(
        practice=reception.practice, address_line1="2 Park Row", address_line2="Headingley"
    )
    appt = appointments.book_appointment(SlotFactory(clinician=gp).pk, patient, reception)
    log_in(page, reception)

    page.goto(f"/patients/{patient.pk}/")
    address = page.locator(".nhsuk-summary-list__row", has_text="Address").locator("dd").first
    expect(address).to_have_text(re.compile(r"2 Park Row\s*Headingley\s*Leeds\s*LS1 5HD"))
    expect(page.locator("main")).not_to_contain_text("<br>")

    page.goto(f"/appointments/{appt.pk}/")
    row = page.locator(".nhsuk-summary-list__row", has_text="Patient")
    expect(row.get_by_role("link", name=patient.listing_name)).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("<a href")


def test_a_long_note_wraps_inside_the_journal(page: Page):
    """Bug 3: a long history made the journal page far wider than the window."""
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    records.save_consultation(
        patient, gp, records.ConsultationNote(consultation_type="face_to_face", history="x" * 9000)
    )
    log_in(page, gp)
    page.goto(f"/record/patients/{patient.pk}/journal/")
    expect(page.locator("#journal")).to_contain_text("History: xxxx")
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1]


def test_arrivals_offers_no_did_not_attend_once_arrived_and_filters(page: Page, reception):
    """Bug 6: 'Did not attend' offered for someone already here; one long list, no filter."""
    practice = reception.practice
    gp = GPFactory(practice=practice, last_name="Okafor")
    nurse = GPFactory(practice=practice, role=Role.NURSE, title="", last_name="Patel")
    soon = london(tomorrow(), 12)  # still to come whenever the test runs (the real clock)
    here = PatientFactory(practice=practice, family_name="Fairweather")
    due = PatientFactory(practice=practice, family_name="Hargreaves")
    seen = PatientFactory(practice=practice, family_name="Lindqvist")
    arrived = appointments.book_appointment(SlotFactory(clinician=gp, start=soon).pk, here, gp)
    appointments.change_status(arrived, AppointmentStatus.ARRIVED, reception)
    appointments.book_appointment(
        SlotFactory(clinician=nurse, start=soon + timedelta(minutes=10)).pk, due, gp
    )
    gone = appointments.book_appointment(
        SlotFactory(clinician=gp, start=soon + timedelta(minutes=20)).pk, seen, gp
    )
    appointments.change_status(gone, AppointmentStatus.DID_NOT_ATTEND, reception)

    log_in(page, reception)
    page.goto(f"/appointments/arrivals/?date={soon.date().isoformat()}")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)  # those still expected: not the did-not-attend
    here_row = rows.filter(has_text="FAIRWEATHER")
    expect(here_row.get_by_role("button", name=re.compile("^Did not attend"))).to_have_count(0)
    due_row = rows.filter(has_text="HARGREAVES")
    expect(due_row.get_by_role("button", name=re.compile("^Did not attend"))).to_be_visible()

    page.get_by_label("Clinician").select_option(label=nurse.display_name)
    page.get_by_role("button", name="Show", exact=True).click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("HARGREAVES")

    page.get_by_label("Clinician").select_option(label="Everyone")
    page.get_by_label("Patient's name").fill("fair")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("FAIRWEATHER")

    page.get_by_label("Patient's name").fill("")
    page.get_by_label("Show", exact=True).select_option(label="Everyone today")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(rows).to_have_count(3)


def test_booking_into_a_review_slot_warns_and_lets_reception_go_on(page: Page, reception):
    """Bug 9: a sore throat booked into a chronic disease review slot with no warning."""
    gp = GPFactory(practice=reception.practice)
    slot = SlotFactory(clinician=gp, start=london(tomorrow(), 9), slot_type=SlotType.REVIEW)
    patient = PatientFactory(practice=reception.practice, family_name="Fairweather")
    log_in(page, reception)
    page.goto(f"/appointments/?date={tomorrow().isoformat()}&patient={patient.pk}")
    page.get_by_role("button", name=re.compile(r"^Book FAIRWEATHER.*09:00")).click()
    message = page.locator("#book-message")
    expect(message).to_contain_text("This is a chronic disease review slot")
    assert not Appointment.objects.filter(slot=slot).exists()
    message.get_by_role("button", name=re.compile("^Book anyway")).click()
    expect(page.locator("#booking-for")).to_contain_text("Booked FAIRWEATHER")
    assert Appointment.objects.get(slot=slot).patient == patient

    other = SlotFactory(clinician=gp, start=london(tomorrow(), 10), slot_type=SlotType.REVIEW)
    page.goto(f"/appointments/slots/{other.pk}/book/?patient={patient.pk}")
    expect(page.get_by_text("This is a chronic disease review slot")).to_be_visible()
    page.get_by_role("button", name="Book anyway").click()
    assert Appointment.objects.filter(slot=other).exists()


def test_day_view_scrolls_as_a_page_and_keeps_the_clinicians_in_view(page: Page, reception):
    """Bug 11: at 1366x768 the grid sat in its own scroll box showing three rows."""
    practice = reception.practice
    gp = GPFactory(practice=practice, last_name="Okafor")
    nurse = GPFactory(practice=practice, role=Role.NURSE, title="", last_name="Patel")
    start = london(tomorrow(), 8)
    for n in range(40):
        SlotFactory(clinician=gp, start=start + timedelta(minutes=10 * n))
        SlotFactory(
            clinician=nurse, start=start + timedelta(minutes=10 * n), slot_type=SlotType.BLOODS
        )
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, reception)
    page.goto(f"/appointments/?date={tomorrow().isoformat()}")
    scroll_boxes = page.evaluate(
        """[...document.querySelectorAll('main *')].filter((e) => {
             const s = getComputedStyle(e);
             return /(auto|scroll)/.test(s.overflowY) && e.scrollHeight > e.clientHeight;
           }).length"""
    )
    assert scroll_boxes == 0
    page.mouse.wheel(0, 1200)
    page.wait_for_function("window.scrollY > 600")
    expect(page.get_by_role("columnheader", name=re.compile("Okafor"))).to_be_in_viewport()

    page.get_by_label("Slot type").select_option(label="Blood test")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_role("columnheader", name=re.compile("Patel"))).to_be_visible()
    expect(page.get_by_role("columnheader", name=re.compile("Okafor"))).to_have_count(0)
    page.get_by_label("Slot type").select_option(label="Any type")
    page.get_by_label("Clinician").select_option(label=gp.display_name)
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_role("columnheader", name=re.compile("Okafor"))).to_be_visible()
    expect(page.get_by_role("columnheader", name=re.compile("Patel"))).to_have_count(0)


def test_picking_a_medicine_warns_of_an_allergy_at_once_and_the_override_is_in_the_journal(
    page: Page,
):
    """Bug 7: the warning came only after Save; the override left no trace in the journal.
    Bug 8: a consultation held one problem; its parts were separate journal rows."""
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    records.record_allergy(
        patient, gp, Concept.objects.get(code="764146007"), severity="severe", certainty="confirmed"
    )
    log_in(page, gp)
    page.goto(f"/record/patients/{patient.pk}/consultation/")
    page.get_by_label("History", exact=True).fill("Cough and fever; crackles at the left base.")
    page.get_by_label("Problem (SNOMED CT)").fill("essential hyp")
    page.get_by_role("radio", name=re.compile("^Essential hypertension")).check()
    page.get_by_role("button", name="Add another problem").click()
    page.get_by_label("Problem 2 (SNOMED CT)").fill("type 2 diab")
    page.get_by_role("radio", name=re.compile("^Type 2 diabetes")).check()

    page.get_by_label("Medicine (dm+d)").fill("amoxicillin 500")
    page.get_by_role("radio", name=re.compile("^Amoxicillin 500mg capsules")).check()
    warning = page.locator("#allergy-warning")
    expect(warning).to_contain_text("this patient has a recorded allergy to")
    assert not Consultation.objects.filter(patient=patient).exists()  # warned before any save

    page.get_by_label("Acute or repeat").select_option("acute")
    page.get_by_label("Dose", exact=True).fill("One capsule three times a day")
    page.get_by_label("Quantity", exact=True).fill("15")
    warning.get_by_label(re.compile("I have checked the allergy")).check()
    page.get_by_label("Why are you prescribing it despite the allergy?").fill(
        "Took amoxicillin in 2024 with no reaction"
    )
    page.get_by_role("button", name="Save consultation").click()
    expect(page.get_by_text("Consultation saved.")).to_be_visible()

    page.goto(f"/record/patients/{patient.pk}/journal/")
    consultation = page.locator("#journal tbody tr").filter(has_text="Consultation")
    expect(consultation).to_have_count(1)
    expect(consultation).to_contain_text("Problem: Essential hypertension")
    expect(consultation).to_contain_text("Problem: Type 2 diabetes")
    expect(consultation).to_contain_text("Prescribed despite a recorded allergy to")
    expect(consultation).to_contain_text("Took amoxicillin in 2024 with no reaction")
    expect(
        page.locator("#journal tbody tr").filter(has_text="Essential hypertension")
    ).to_have_count(1)
