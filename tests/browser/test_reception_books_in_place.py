"""From a patient's page, reception books them into the day's book without leaving it."""

import re

import pytest
from playwright.sync_api import Page, expect

from steadfast.appointments.models import Appointment
from steadfast.appointments.services import book_appointment
from tests.browser.test_reception_books_and_cancels import slot_cell
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


def test_reception_books_from_the_patients_page_and_takes_a_nearer_slot_when_beaten(
    page: Page, sign_in
):
    practice = PracticeFactory()
    reception = UserFactory(username="reception", practice=practice)
    gp = GPFactory(practice=practice, first_name="Amara", last_name="Okafor")
    day = tomorrow()
    first = SlotFactory(clinician=gp, start=london(day, 9))
    second = SlotFactory(clinician=gp, start=london(day, 9, 10))
    patient = PatientFactory(
        practice=practice, family_name="Fairweather", given_name="Imogen", title="Ms"
    )
    rival = PatientFactory(practice=practice, family_name="Hargreaves", given_name="Tom")
    name = "FAIRWEATHER, Imogen (Ms)"

    sign_in(reception)
    page.goto(f"/patients/{patient.id}/")
    page.get_by_role("link", name="Book an appointment").click()
    page.get_by_role("link", name="Next day").click()
    expect(page).to_have_url(re.compile(rf"date={day.isoformat()}&patient={patient.id}$"))
    expect(page.get_by_role("heading", name="Booking for")).to_be_visible()

    # Another receptionist takes 09:00 while this one is still talking to the patient.
    book_appointment(first.id, rival, reception, reason="Earache")
    page.get_by_label("Reason for appointment").fill("Cough for three weeks")
    url_before = page.url
    page.get_by_role("button", name=f"Book {name}: {gp.display_name}, 09:00", exact=False).click()

    message = page.locator("#book-message")
    expect(message).to_contain_text("Not booked")
    expect(message).to_contain_text("That slot is no longer available")
    expect(message).to_be_focused()  # the Book button pressed went with its cell
    expect(slot_cell(page, gp, "09:00")).to_contain_text("HARGREAVES, Tom")
    nearest = message.get_by_role("list")
    expect(nearest.get_by_role("listitem")).to_have_count(1)
    nearest.get_by_role("button", name=re.compile("09:10")).click()

    expect(page.get_by_role("heading", name="Done")).to_be_visible()
    expect(page.locator("#booking-for")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="View the appointment")).to_be_focused()
    expect(page.get_by_text(f"Booked {name} with {gp.display_name} at 09:10")).to_be_visible()
    expect(slot_cell(page, gp, "09:10")).to_contain_text(name)
    expect(page.get_by_role("button", name=re.compile("^Book "))).to_have_count(0)
    assert page.url == url_before  # answered in place: the page never reloaded

    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    appointment = Appointment.objects.get(patient=patient)
    assert appointment.slot_id == second.id
    assert appointment.reason == "Cough for three weeks"
    assert appointment.booked_by == reception
