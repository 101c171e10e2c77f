"""Signing in: through the pages once (`log_in`, kept for the journey that tests it), and
otherwise from a session made in the database (`start_signed_in`), which is quicker and leaves
each test to check what it is about."""

import re

from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, current_code, force_login_verified


def log_in(page: Page, user) -> None:
    """Password, then (for clinical and admin roles) a code from a freshly set-up app."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if user.needs_second_factor:
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="Phone", defaults={"confirmed": True}
        )
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    if user.needs_second_factor:
        page.get_by_label(re.compile("code", re.IGNORECASE)).fill(current_code(device))
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def start_signed_in(page: Page, user, base_url: str) -> None:
    """Give the browser the cookie of a session signed in as `user`, second factor passed (the
    state a correct code leaves), then open the home page signed in."""
    client = Client()
    force_login_verified(client, user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session,
                "url": base_url,
                "httpOnly": True,
            }
        ]
    )
    page.goto("/")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
