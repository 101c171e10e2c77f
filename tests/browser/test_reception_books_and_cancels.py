"""A receptionist books a patient into a free slot and cancels it again, as a person would."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from steadfast.appointments.models import Appointment, AppointmentStatus, CancelledBy, SlotStatus
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


def slot_cell(page: Page, clinician, time: str) -> Locator:
    """The day view's cell for `clinician` at `time`, found by its row and column headers."""
    book = page.get_by_role("table", name=re.compile("^Appointments on"))
    headers = book.get_by_role("columnheader").all_inner_texts()
    column = next(i for i, text in enumerate(headers) if text.startswith(clinician.display_name))
    row = book.get_by_role("row").filter(has=page.get_by_role("rowheader", name=time, exact=True))
    return row.get_by_role("cell").nth(column - 1)  # the time is a row header, not a cell


def test_reception_books_a_patient_into_a_free_slot_and_cancels_it(page: Page, sign_in):
    practice = PracticeFactory()
    reception = UserFactory(username="reception", practice=practice)
    gp = GPFactory(practice=practice, first_name="Amara", last_name="Okafor")
    other_gp = GPFactory(practice=practice, first_name="Ben", last_name="Whitlock")
    day = tomorrow()
    slot = SlotFactory(clinician=gp, start=london(day, 9))
    SlotFactory(clinician=gp, start=london(day, 9, 10))
    SlotFactory(clinician=other_gp, start=london(day, 9))
    patient = PatientFactory(
        practice=practice, family_name="Fairweather", given_name="Imogen", title="Ms"
    )
    PatientFactory(practice=practice, family_name="Hargreaves", given_name="Tom")
    name = "FAIRWEATHER, Imogen (Ms)"

    sign_in(reception)
    page.goto(f"/appointments/?date={day.isoformat()}")
    expect(slot_cell(page, gp, "09:00")).to_contain_text("Free")
    free = f"Free, book {gp.display_name}, 09:00, Routine, Face to face"
    page.get_by_role("link", name=free, exact=True).click()

    expect(page.get_by_role("heading", name="Book an appointment")).to_be_visible()
    page.get_by_role("searchbox", name="Name, NHS number, date of birth or postcode").fill(
        "fairweather"
    )
    # Typing already asks htmx for live results; wait for the Search button's full page load so
    # that "Select" is clicked on the page that will stay, not on the one being replaced.
    with page.expect_event("domcontentloaded"):
        page.get_by_role("button", name="Search", exact=True).click()
    results = page.get_by_role("table", name="Patients matching your search")
    expect(results.get_by_role("link", name=re.compile("^Select"))).to_have_count(1)
    results.get_by_role("link", name=f"Select {name}").click()

    page.get_by_label("Reason for appointment").fill("Cough for three weeks")
    page.get_by_role("button", name="Book appointment").click()

    expect(page).to_have_url(re.compile(rf"/appointments/\?date={day.isoformat()}$"))
    expect(page.get_by_role("alert")).to_contain_text(
        f"Booked {name} with {gp.display_name} at 09:00"
    )
    booked = slot_cell(page, gp, "09:00")
    expect(booked).to_contain_text(name)
    expect(slot_cell(page, other_gp, "09:00")).to_contain_text("Free")

    booked.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/appointments/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    page.get_by_role("link", name="Cancel appointment").click()

    page.get_by_role("radio", name="Patient").check()
    page.get_by_label("Reason", exact=True).fill("Feeling better")
    page.get_by_role("button", name="Cancel appointment").click()

    expect(page).to_have_url(re.compile(rf"/appointments/\?date={day.isoformat()}$"))
    expect(page.get_by_role("alert")).to_contain_text(
        f"The 09:00 slot with {gp.display_name} is free again"
    )
    freed = slot_cell(page, gp, "09:00")
    expect(freed.get_by_role("link", name=free, exact=True)).to_be_visible()
    expect(freed).not_to_contain_text(name)

    appointment = Appointment.objects.get(slot=slot, patient=patient)
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancelled_by == CancelledBy.PATIENT
    assert appointment.cancellation_reason == "Feeling better"
    assert appointment.reason == "Cough for three weeks"
    assert appointment.booked_by.username == "reception"
    slot.refresh_from_db()
    assert slot.status == SlotStatus.FREE
