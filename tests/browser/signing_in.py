"""Logging in through the pages, with the authenticator code when the role needs one."""

import re

from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, current_code


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
