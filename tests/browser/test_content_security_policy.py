"""The pages people use break none of the Content Security Policy, htmx included; a GP's code."""

import re
from base64 import b32decode
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from steadfast.appointments import services
from tests.factories import (
    PASSWORD,
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
def violations(page: Page) -> list[str]:
    """Every CSP violation chromium reports on the console, and every uncaught script error.

    Requests off this machine are cut short: tests reach only the live server (and
    test_pages_load_nothing_from_elsewhere.py shows pages make none).
    """
    page.route(re.compile(r"^https?://(?!localhost[:/]|127\.0\.0\.1[:/])"), lambda r: r.abort())
    seen = []
    page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda e: seen.append(str(e)))
    return seen


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def live_search(page: Page, text: str, expected: str) -> None:
    """Type into the search box and see htmx swap the results in, without a page load."""
    page.evaluate("window.__same_page = true")
    page.get_by_role("searchbox").fill(text)
    expect(page.get_by_role("table", name="Patients matching your search")).to_contain_text(
        expected
    )
    expect(page).to_have_url(re.compile(rf"q={text}"))  # hx-push-url
    assert page.evaluate("window.__same_page === true")


def test_reception_pages_and_live_search_break_no_csp_rule(page: Page, violations):
    practice = PracticeFactory()
    UserFactory(username="reception", practice=practice)
    gp = GPFactory(practice=practice)
    slot = SlotFactory(clinician=gp, start=london(tomorrow(), 9))
    PatientFactory(practice=practice, family_name="Fairweather", given_name="Imogen")

    log_in(page, "reception")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.goto(f"/appointments/?date={tomorrow().isoformat()}")
    expect(page.get_by_role("table", name=re.compile("^Appointments on"))).to_be_visible()
    page.goto(f"/appointments/slots/{slot.pk}/book/")
    expect(page.get_by_role("heading", name="Book an appointment")).to_be_visible()
    live_search(page, "fairweather", "FAIRWEATHER")
    page.goto("/patients/")
    live_search(page, "imogen", "FAIRWEATHER")
    page.goto("/accounts/me/")
    expect(page.get_by_role("button", name="Sign out of all other devices")).to_be_visible()

    assert violations == []


def test_gp_sets_up_an_authenticator_and_starts_a_consultation(page: Page, violations):
    gp = GPFactory(username="okafor")
    start = timezone.now() + timedelta(minutes=2)
    slot = SlotFactory(clinician=gp, start=start, end=start + timedelta(minutes=10))
    patient = PatientFactory(practice=gp.practice, family_name="Hargreaves")
    services.mark_arrived(services.book_appointment(slot.pk, patient, gp), gp)

    log_in(page, "okafor")
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 100  # the data: image was allowed to load
    page.get_by_text("I cannot scan the QR code").click()
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.get_by_label("Security code").fill(f"{totp(b32decode(secret)):06d}")
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_role("alert")).to_contain_text("Your authenticator app is set up")

    page.goto(f"/appointments/my-list/?date={timezone.localdate(start).isoformat()}")
    page.evaluate("window.__same_page = true")
    page.get_by_role("button", name=re.compile("^Start")).click()  # an htmx POST
    expect(page.get_by_role("button", name=re.compile("^Finish"))).to_be_visible()
    assert page.evaluate("window.__same_page === true")
    assert violations == []
