"""Signing in and where each role lands."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from steadfast.accounts.models import Role
from tests.factories import PASSWORD, UserFactory, current_code

pytestmark = pytest.mark.django_db


def test_wrong_password_is_refused_with_a_message(client):
    UserFactory(username="kim")
    response = client.post(reverse("accounts:login"), {"username": "kim", "password": "nope"})
    assert response.status_code == 200
    assert "Enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.RECEPTIONIST, "appointments:day"),
        (Role.GP, "appointments:my_list"),
        (Role.NURSE, "appointments:my_list"),
    ],
)
def test_each_role_lands_where_their_day_starts(client, role, landing):
    user = UserFactory(username="sam", role=role)
    if user.needs_second_factor:
        device = TOTPDevice.objects.create(user=user, confirmed=True)
    response = client.post(
        reverse("accounts:login"), {"username": "sam", "password": PASSWORD}, follow=True
    )
    if user.needs_second_factor:  # clinicians enter their authenticator app's code first
        asked = response.redirect_chain[-1][0]
        assert asked.startswith(reverse("accounts:second_factor"))
        response = client.post(asked, {"code": current_code(device)}, follow=True)
    assert response.redirect_chain[-1][0] == reverse(landing)


def test_logging_out_needs_a_post_and_ends_the_session(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("appointments:day")).status_code == 302


@pytest.mark.parametrize("next_url", ["my_list", "appointments:day", "https://evil.example/"])
def test_a_next_that_is_not_a_local_path_leads_home(client, next_url):
    UserFactory(username="kim", role=Role.RECEPTIONIST)
    data = {"username": "kim", "password": PASSWORD, "next": next_url}
    response = client.post(reverse("accounts:login"), data)
    assert response.url == reverse("home")


def test_a_local_next_is_followed(client):
    UserFactory(username="kim", role=Role.RECEPTIONIST)
    data = {"username": "kim", "password": PASSWORD, "next": "/patients/"}
    assert client.post(reverse("accounts:login"), data).url == "/patients/"
