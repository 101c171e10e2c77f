"""In an outage the first thing to go may be another organisation's host: every request a page
makes (styles, fonts, scripts, images, icons) goes to this server and nowhere else."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from steadfast.accounts.models import Role
from steadfast.records import services as records
from tests.browser.signing_in import log_in
from tests.factories import GPFactory, PatientFactory, UserFactory, tomorrow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def requests_elsewhere(page: Page, live_server) -> list[str]:
    """Every URL the browser asks for that is not on the live server (and cut short, so a
    test never waits on the network)."""
    here = urlsplit(live_server.url).netloc
    elsewhere = []

    def check(route):
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != here:
            elsewhere.append(url)
            return route.abort()
        return route.continue_()

    page.route(re.compile(".*"), check)
    return elsewhere


def test_a_working_day_requests_nothing_from_another_host(page: Page, requests_elsewhere):
    gp = GPFactory()
    manager = UserFactory(practice=gp.practice, role=Role.PRACTICE_MANAGER)
    patient = PatientFactory(practice=gp.practice, family_name="Fairweather")
    records.save_consultation(patient, gp, records.ConsultationNote("face_to_face", history="Ok"))

    page.goto("/accounts/login/")  # signed out, as everyone's day starts
    expect(page.get_by_label("Username")).to_be_visible()
    log_in(page, gp)
    for path in (
        f"/appointments/?date={tomorrow().isoformat()}",
        "/appointments/my-list/",
        "/patients/",
        f"/patients/{patient.pk}/",
        f"/record/patients/{patient.pk}/",
        f"/record/patients/{patient.pk}/journal/",
        "/accounts/me/",
    ):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Log out").click()
    page.context.clear_cookies()
    log_in(page, manager)
    page.goto("/audit/")
    page.wait_for_load_state("networkidle")

    assert requests_elsewhere == []
    fonts = page.evaluate("[...document.fonts].map(f => f.family)")
    assert fonts == []  # no web font is declared: text is in the system's Arial
