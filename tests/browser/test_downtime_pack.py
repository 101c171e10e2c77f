"""The downtime pack in chromium: opened from disk with no network, and from the Downtime access
page's offline copy with the server stopped."""

import re

import pytest
from playwright.sync_api import Page, expect

from steadfast.audit.models import AuditEvent
from steadfast.continuity import services
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.signing_in import log_in
from tests.browser.switchable_server import SwitchableServer
from tests.continuity.conftest import PASSPHRASE, clinic  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


def unlock(page: Page, passphrase: str) -> None:
    page.get_by_label("Passphrase").fill(passphrase)
    page.get_by_role("button", name="Open").click()


def find_allergies(page: Page, text: str) -> None:
    page.get_by_label("Name, NHS number or date of birth").fill(text)
    result = page.locator("#find-results li").filter(has_text="FAIRWEATHER, Imogen")
    expect(result).to_contain_text("Penicillin: anaphylaxis (severe)")


def watch_for_trouble(page: Page) -> list[str]:
    """CSP violations and script errors, as the console reports them."""
    seen = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security" in m.text else None)
    page.on("pageerror", lambda e: seen.append(str(e)))
    return seen


@pytest.mark.django_db
def test_pack_opens_from_disk_on_a_phone_with_no_network(browser, clinic, tmp_path):  # noqa: F811
    built = services.build_pack(clinic.practice, PASSPHRASE, days=2)
    path = tmp_path / built.name
    path.write_bytes(built.html)
    raw = path.read_bytes().lower()
    nhs = clinic.booked.nhs_number
    for readable in (b"fairweather", b"imogen", nhs.encode(), f"{nhs[:3]} {nhs[3:6]}".encode()):
        assert readable not in raw

    # A phone: the pack is what a receptionist may have in their pocket when the PCs are down.
    context = browser.new_context(
        offline=True,
        locale="en-GB",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    requests = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    trouble = watch_for_trouble(page)
    page.goto(path.as_uri())
    expect(
        page.get_by_text(re.compile(r"^Made .* — anything after this is not here$"))
    ).to_be_visible()
    expect(page.get_by_text("FAIRWEATHER")).to_have_count(0)

    unlock(page, "kettle orchard lantern 43")
    expect(page.get_by_role("alert")).to_have_text(re.compile("^Wrong passphrase"))
    expect(page.locator("#content")).to_be_hidden()

    unlock(page, PASSPHRASE)
    expect(page.get_by_role("table", name=re.compile("Dr Ada Okonkwo"))).to_contain_text(
        "Blood pressure review"
    )
    find_allergies(page, "fairw")
    find_allergies(page, f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}")
    page.get_by_label("Name, NHS number or date of birth").fill("hollow")
    expect(page.locator("#find-results")).to_have_text("HOLLOWELL, Quentin restricted record")
    assert requests == [path.as_uri()]  # the file itself, and nothing else
    assert trouble == []
    context.close()


@pytest.mark.django_db(transaction=True)
def test_downtime_page_opens_the_kept_pack_with_the_server_stopped(
    browser,
    live_server,
    clinic,  # noqa: F811
    settings,
    tmp_path,
):
    settings.PACK_DIR = tmp_path
    services.store_pack(clinic.practice, PASSPHRASE)
    server = SwitchableServer(live_server.thread.port).switch_on()
    context = browser.new_context(base_url=server.url, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    trouble = watch_for_trouble(page)
    try:
        log_in(page, clinic.reception)
        page.get_by_role("link", name="Downtime").click()
        expect(page.get_by_role("status")).to_contain_text("Kept in this browser: the pack made")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        server.switch_off()
        page.goto("/continuity/downtime/")
        expect(page.get_by_text("Steadfast cannot be reached")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text(re.compile(r"minutes? ago"))
        page.get_by_role("link", name="Open the copy kept in this browser").click()
        unlock(page, PASSPHRASE)
        find_allergies(page, "imogen fair")

        server.switch_on()  # back: the page sends the opening it queued
        page.goto("/continuity/downtime/")
        expect(page.get_by_text("Download the pack")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("Kept in this browser")
        for _ in range(50):
            if AuditEvent.objects.filter(action="open_downtime_pack").exists():
                break
            page.wait_for_timeout(200)
        opening = AuditEvent.objects.get(action="open_downtime_pack")
        assert opening.user_id == clinic.reception.pk
        assert page.evaluate("localStorage.getItem('steadfast.downtime.opens')") == "[]"
    finally:
        server.switch_off()
        context.close()
    assert trouble == []
