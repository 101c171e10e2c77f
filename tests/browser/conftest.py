"""Browser tests: Debian's chromium, driven through Playwright, against pytest-django's live_server.

Without chromium these tests skip with the reason, or under CI=true fail the run. Every page a
test loads is checked when the test is done (page_checks.py): axe-core's WCAG 2.2 AA rules with
no serious or critical violation, and no markup shown as text.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.page_checks import AXE_JS, PageChecks
from tests.browser.signing_in import start_signed_in
from tests.conftest import missing_prerequisite

# Playwright's sync API keeps an asyncio event loop registered on the test thread, and Django
# refuses ORM calls from a thread with a running loop. Nothing of ours runs on that loop, so the
# factories and assertions in these tests may safely use the ORM synchronously.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Long enough for a slow CI machine, short enough that a broken page fails within the minute.
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)


@pytest.hookimpl(trylast=True)  # after `-m "not browser"` has deselected what it will
def pytest_collection_modifyitems(config, items):
    browser_tests = [item for item in items if "browser" in item.keywords]
    missing = None
    if not Path(CHROMIUM).is_file():
        missing = f"chromium not found at {CHROMIUM}"
    elif not AXE_JS.is_file():
        missing = f"axe-core not found at {AXE_JS} (make test-assets)"
    if browser_tests and missing:
        skip = missing_prerequisite(missing)
        for item in browser_tests:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) per test, with relative URLs on the live server;
    every page it loads must pass the page checks."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1400, "height": 1000}, locale="en-GB"
    )
    context.set_default_timeout(TIMEOUT_MS)
    checks = PageChecks(context)
    page = context.new_page()
    yield page
    context.close()
    checks.check(browser, live_server.url)


@pytest.fixture
def sign_in(page, live_server):
    """`sign_in(user)`: the page is signed in as `user` from a session cookie, not the login pages
    (test_gp_records_a_consultation signs in through them)."""
    return lambda user: start_signed_in(page, user, live_server.url)
