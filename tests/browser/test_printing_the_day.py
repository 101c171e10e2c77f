"""The day view, a clinician's list and arrivals print cleanly on A4, and each downloads as PDF."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from steadfast.accounts.models import Role
from steadfast.appointments import services as appointments
from tests.factories import GPFactory, PatientFactory, SlotFactory, UserFactory, london, tomorrow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

A4_LANDSCAPE = {"width": 1123, "height": 794}  # CSS pixels at 96 per inch
PRINT_PROBLEMS = """() => {
  const links = [...document.querySelectorAll("main a[href]")];
  const linkText = links.filter((a) => getComputedStyle(a, "::after").content.includes("Link"));
  const forms = [...document.querySelectorAll("main form")].filter(
    (f) => getComputedStyle(f).display !== "none");
  return {
    linksWithUrls: linkText.length,
    visibleForms: forms.length,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
  };
}"""


@pytest.fixture
def busy_day():
    reception = UserFactory()
    practice = reception.practice
    clinicians = [GPFactory(practice=practice, last_name=f"Doctor{n}") for n in range(6)]
    clinicians.append(UserFactory(practice=practice, role=Role.NURSE, last_name="Patel"))
    start = london(tomorrow(), 8)
    for clinician in clinicians:
        for n in range(30):
            slot = SlotFactory(clinician=clinician, start=start + timedelta(minutes=10 * n))
            if n % 3 == 0:
                patient = PatientFactory(practice=practice, family_name=f"Longsurname{n}")
                appointments.book_appointment(slot.pk, patient, reception, reason="Review")
    return reception


def test_the_day_view_and_arrivals_print_without_urls_forms_or_clipping(
    page: Page, sign_in, busy_day
):
    sign_in(busy_day)
    page.set_viewport_size(A4_LANDSCAPE)
    page.emulate_media(media="print")
    for url in (f"/appointments/?date={tomorrow()}", f"/appointments/arrivals/?date={tomorrow()}"):
        page.goto(url)
        expect(page.get_by_role("table")).to_be_visible()
        problems = page.evaluate(PRINT_PROBLEMS)
        assert problems == {"linksWithUrls": 0, "visibleForms": 0, "overflow": 0}, url
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download this list to print (PDF)").click()
    assert download.value.suggested_filename == f"arrivals-{tomorrow()}.pdf"


def test_a_clinician_prints_their_own_list(page: Page, sign_in, busy_day):
    gp = GPFactory(practice=busy_day.practice, last_name="Okafor")
    slot = SlotFactory(clinician=gp, start=london(tomorrow(), 9))
    appointments.book_appointment(slot.pk, PatientFactory(practice=gp.practice), busy_day)
    sign_in(gp)
    page.goto(f"/appointments/my-list/?date={tomorrow()}")
    page.emulate_media(media="print")
    assert page.evaluate(PRINT_PROBLEMS)["linksWithUrls"] == 0
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download this list to print")).click()
    assert download.value.suggested_filename.startswith("my-list-")
