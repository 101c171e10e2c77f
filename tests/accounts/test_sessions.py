"""Idle sessions end after 15 minutes; a person can sign out of every other device."""

import time

import pytest
from django.test import Client
from django.urls import reverse

from steadfast.accounts.middleware import LAST_ACTIVITY_KEY
from tests.factories import GPFactory, UserFactory, force_login_verified

pytestmark = pytest.mark.django_db

DAY = "/appointments/"


def set_last_activity(client, seconds_ago: int) -> None:
    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time()) - seconds_ago
    session.save()


def test_fifteen_minutes_without_activity_signs_the_user_out(client):
    client.force_login(UserFactory())
    assert client.get(DAY).status_code == 200
    set_last_activity(client, 15 * 60 + 5)

    response = client.get(DAY, follow=True)
    login = reverse("accounts:login")
    assert response.redirect_chain[0][0] == f"{login}?next={DAY}"
    assert "You were signed out after 15 minutes without activity" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_activity_within_fifteen_minutes_keeps_the_session_and_restarts_the_clock(client):
    client.force_login(UserFactory())
    set_last_activity(client, 14 * 60)
    assert client.get(DAY).status_code == 200
    assert time.time() - client.session[LAST_ACTIVITY_KEY] < 5


def test_the_activity_stamp_is_written_at_most_once_a_minute(client):
    client.force_login(UserFactory())
    set_last_activity(client, 10)
    stamp = client.session[LAST_ACTIVITY_KEY]
    client.get(DAY)
    assert client.session[LAST_ACTIVITY_KEY] == stamp


def test_a_live_search_after_the_timeout_sends_the_whole_page_to_log_in(client):
    client.force_login(UserFactory())
    set_last_activity(client, 16 * 60)
    response = client.get(reverse("patients:search"), {"q": "smith"}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == reverse("accounts:login")


def test_signing_out_everywhere_ends_other_sessions_but_keeps_this_one(client):
    gp = GPFactory()
    elsewhere = Client()
    force_login_verified(elsewhere, gp)
    force_login_verified(client, gp)
    assert elsewhere.get("/appointments/my-list/").status_code == 200

    page = client.get(reverse("accounts:me")).content.decode()
    assert "Sign out of all other devices" in page
    response = client.post(reverse("accounts:sign_out_everywhere"), follow=True)
    assert "You have been signed out of Steadfast on every other device" in (
        response.content.decode()
    )

    assert client.get("/appointments/my-list/").status_code == 200
    shut_out = elsewhere.get("/appointments/my-list/")
    assert shut_out.status_code == 302 and shut_out.url.startswith(reverse("accounts:login"))


def test_signing_out_everywhere_needs_a_post(client):
    client.force_login(UserFactory())
    assert client.get(reverse("accounts:sign_out_everywhere")).status_code == 405


def test_the_header_name_links_to_your_account_page(client):
    user = UserFactory(first_name="Rita", last_name="Shah", username="rita")
    client.force_login(user)
    page = client.get(DAY).content.decode()
    assert f'href="{reverse("accounts:me")}"' in page
    account = client.get(reverse("accounts:me")).content.decode()
    assert "Your account" in account and "rita" in account and "Receptionist" in account
    assert "Set up an authenticator app" in account
