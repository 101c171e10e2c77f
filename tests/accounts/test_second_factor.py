"""Clinicians, practice managers and administrators enter a code from an authenticator app."""

import re
from base64 import b32decode

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from steadfast.accounts.models import Role
from tests.factories import PASSWORD, GPFactory, UserFactory, current_code

pytestmark = pytest.mark.django_db

MY_LIST = "/appointments/my-list/"


def log_in(client, username: str, next_url: str = ""):
    url = reverse("accounts:login") + (f"?next={next_url}" if next_url else "")
    data = {"username": username, "password": PASSWORD, "next": next_url}
    return client.post(url, data, follow=True)


@pytest.fixture
def gp():
    gp = GPFactory(username="okafor")
    TOTPDevice.objects.create(user=gp, name="Phone", confirmed=True)
    return gp


def test_gp_cannot_reach_their_list_before_entering_a_code(client, gp):
    asked = log_in(client, "okafor", MY_LIST)
    assert asked.redirect_chain[-1][0].startswith(reverse("accounts:second_factor"))
    assert "Enter your security code" in asked.content.decode()
    assert "My list" not in asked.content.decode()  # no navigation until the code is in

    response = client.get(MY_LIST)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:second_factor"))


def test_wrong_code_is_refused_with_a_message(client, gp):
    asked = log_in(client, "okafor", MY_LIST)
    right = current_code(gp.totpdevice_set.get())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = client.post(asked.redirect_chain[-1][0], {"code": wrong})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert client.get(MY_LIST).status_code == 302


def test_right_code_takes_the_gp_to_the_page_they_asked_for(client, gp):
    asked = log_in(client, "okafor", MY_LIST)
    code = current_code(gp.totpdevice_set.get())
    response = client.post(asked.redirect_chain[-1][0], {"code": code}, follow=True)
    assert response.redirect_chain[-1][0] == MY_LIST
    assert response.status_code == 200
    assert client.get(MY_LIST).status_code == 200


def test_a_code_works_only_once(client, gp):
    device = gp.totpdevice_set.get()
    code = current_code(device)
    asked = log_in(client, "okafor")
    client.post(asked.redirect_chain[-1][0], {"code": code})
    client.post(reverse("accounts:logout"))

    again = log_in(client, "okafor")
    response = client.post(again.redirect_chain[-1][0], {"code": code})
    assert "That code is not right" in response.content.decode()


def test_after_repeated_wrong_codes_even_the_right_one_must_wait(client, gp):
    device = gp.totpdevice_set.get()
    device.throttling_failure_count = 5  # django-otp then asks for 16 seconds' wait
    device.throttling_failure_timestamp = timezone.now()
    device.save()
    asked = log_in(client, "okafor")
    response = client.post(asked.redirect_chain[-1][0], {"code": current_code(device)})
    assert re.search(r"Too many wrong codes\. Wait 1[56] seconds", response.content.decode())
    assert client.get(MY_LIST).status_code == 302


def test_gp_without_an_app_sets_one_up_from_the_qr_code_or_secret(client):
    GPFactory(username="new-gp")
    asked = log_in(client, "new-gp", MY_LIST)
    set_up_url = asked.redirect_chain[-1][0]
    assert set_up_url.startswith(reverse("accounts:set_up_second_factor"))
    page = asked.content.decode()
    assert 'src="data:image/svg+xml' in page
    secret = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', page).group(1)
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{4}", secret)
    assert log_in(client, "new-gp").content.decode().count(secret) == 1  # a reload keeps it

    refused = client.post(set_up_url, {"code": "12345"})
    assert "Enter the 6-digit code" in refused.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()

    code = f"{totp(b32decode(secret.replace(' ', ''))):06d}"  # what the app would show
    response = client.post(set_up_url, {"code": code}, follow=True)
    assert response.redirect_chain[-1][0] == MY_LIST
    assert "Your authenticator app is set up" in response.content.decode()
    assert TOTPDevice.objects.get(user__username="new-gp").confirmed


def test_receptionist_is_not_asked_for_a_code(client):
    UserFactory(username="rita", role=Role.RECEPTIONIST)
    response = log_in(client, "rita")
    assert response.redirect_chain[-1][0] == reverse("appointments:day")


def test_receptionist_who_set_up_an_app_is_asked_for_its_code(client):
    rita = UserFactory(username="rita", role=Role.RECEPTIONIST)
    device = TOTPDevice.objects.create(user=rita, confirmed=True)
    asked = log_in(client, "rita")
    assert asked.redirect_chain[-1][0].startswith(reverse("accounts:second_factor"))
    response = client.post(asked.redirect_chain[-1][0], {"code": current_code(device)}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("appointments:day")


@pytest.mark.parametrize("role", [Role.NURSE, Role.HCA, Role.PRACTICE_MANAGER, Role.ADMIN])
def test_other_clinical_and_admin_roles_are_asked_too(client, role):
    UserFactory(username="sam", role=role)
    asked = log_in(client, "sam")
    assert asked.redirect_chain[-1][0].startswith(reverse("accounts:set_up_second_factor"))


def test_live_search_before_the_code_loads_the_code_page_whole(client, gp):
    log_in(client, "okafor")
    response = client.get(reverse("patients:search"), {"q": "smith"}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == reverse("accounts:second_factor")


def test_a_gp_waiting_for_their_code_can_log_out(client, gp):
    log_in(client, "okafor")
    client.post(reverse("accounts:logout"))
    assert "_auth_user_id" not in client.session


def _session_key(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _signed_in_with(session_key: str) -> bool:
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = session_key
    response = stale.get(MY_LIST)
    return response.status_code == 200 or not response.url.startswith(reverse("accounts:login"))


def test_the_session_key_changes_when_the_code_is_accepted(client, gp):
    asked = log_in(client, "okafor", MY_LIST)
    before = _session_key(client)
    code = current_code(gp.totpdevice_set.get())
    client.post(asked.redirect_chain[-1][0], {"code": code})
    after = _session_key(client)
    assert after != before
    assert client.get(MY_LIST).status_code == 200
    assert not _signed_in_with(before)  # a cookie fixed or seen before the code is worth nothing


def test_the_session_key_changes_when_a_new_app_is_confirmed(client):
    GPFactory(username="new-gp")
    asked = log_in(client, "new-gp", MY_LIST)
    before = _session_key(client)
    secret = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', asked.content.decode()).group(1)
    code = f"{totp(b32decode(secret.replace(' ', ''))):06d}"
    client.post(asked.redirect_chain[-1][0], {"code": code})
    assert _session_key(client) != before
    assert client.get(MY_LIST).status_code == 200
    assert not _signed_in_with(before)


@pytest.mark.parametrize(
    "next_url", ["my_list", "appointments:day", "https://evil.example/", "//evil.example/"]
)
def test_a_next_that_is_not_a_local_path_leads_home_after_the_code(client, gp, next_url):
    asked = log_in(client, "okafor", next_url)
    code = current_code(gp.totpdevice_set.get())
    response = client.post(asked.redirect_chain[-1][0], {"code": code})
    assert response.status_code == 302
    assert response.url == reverse("home")
