"""Five wrong passwords lock that username from that address for 15 minutes (django-axes)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOCKED = "Your account is locked for 15 minutes"


def main_content(response) -> str:
    page = response.content.decode()
    return page[page.index("<main") : page.index("</main>")]


def attempt(client, username: str, password: str):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def fail(client, username: str, times: int):
    return [attempt(client, username, "not-the-password") for _ in range(times)][-1]


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(client):
    UserFactory(username="kim")
    assert "Enter a correct username and password" in fail(client, "kim", 4).content.decode()
    fifth = fail(client, "kim", 1)
    assert fifth.status_code == 429
    assert LOCKED in fifth.content.decode()

    right = attempt(client, "kim", PASSWORD)
    assert right.status_code == 429
    assert LOCKED in right.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_locked_page_does_not_reveal_whether_the_username_exists(client):
    UserFactory(username="kim")
    real = main_content(fail(client, "kim", 5))
    unknown = main_content(fail(client, "nobody-here", 5))
    assert LOCKED in unknown
    assert real == unknown


def test_a_correct_password_resets_the_count(client):
    UserFactory(username="kim")
    fail(client, "kim", 4)
    assert attempt(client, "kim", PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    fail(client, "kim", 4)
    assert attempt(client, "kim", PASSWORD).status_code == 302


def test_the_lock_holds_only_for_that_username_from_that_address(client):
    UserFactory(username="kim")
    UserFactory(username="lee")
    fail(client, "kim", 5)
    assert attempt(client, "lee", PASSWORD).status_code == 302
    elsewhere = Client(REMOTE_ADDR="192.0.2.7")
    assert attempt(elsewhere, "kim", PASSWORD).status_code == 302


def test_the_lock_lifts_after_15_minutes(client):
    UserFactory(username="kim")
    fail(client, "kim", 5)
    attempts = AccessAttempt.objects.filter(username="kim")
    attempts.update(attempt_time=attempts.get().attempt_time - timedelta(minutes=16))
    assert attempt(client, "kim", PASSWORD).status_code == 302
