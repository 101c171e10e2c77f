"""A strict Content Security Policy, HSTS and secure cookies behind TLS, CSRF on every form."""

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from steadfast.accounts.models import Role
from steadfast.appointments import services as appointments
from steadfast.audit.models import Alert
from tests.factories import (
    PASSWORD,
    GPFactory,
    PatientFactory,
    SlotFactory,
    UserFactory,
    force_login_verified,
    tomorrow,
)

pytestmark = pytest.mark.django_db

STRICT_POLICY = {
    "default-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (d.split() for d in header.split(";") if d.strip())}


class PageParts(HTMLParser):
    """The inline scripts, inline styles and POST forms (with or without a CSRF token) of a page."""

    def __init__(self):
        super().__init__()
        self.inline_script_nonces, self.inline_styles, self.post_forms = [], 0, []
        self._form = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs:
            self.inline_script_nonces.append(attrs.get("nonce"))
        if tag == "style" or "style" in attrs:
            self.inline_styles += 1
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._form = {"action": attrs.get("action"), "csrf": False}
            self.post_forms.append(self._form)
        if tag == "input" and self._form and attrs.get("name") == "csrfmiddlewaretoken":
            self._form["csrf"] = bool(attrs.get("value"))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def parts(response) -> PageParts:
    parser = PageParts()
    parser.feed(response.content.decode())
    return parser


def test_pages_carry_a_strict_policy_whose_nonce_only_the_inline_script_has(client):
    first = client.get(reverse("accounts:login"))
    rules = policy(first)
    assert {k: v for k, v in rules.items() if k in STRICT_POLICY} == STRICT_POLICY
    assert "'unsafe-inline'" not in first["Content-Security-Policy"]
    (nonce,) = re.findall(r"'nonce-([^']+)'", " ".join(rules["script-src"]))
    assert rules["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert parts(first).inline_script_nonces == [nonce]

    second = client.get(reverse("accounts:login"))
    assert parts(second).inline_script_nonces != [nonce]  # a fresh nonce for every response


def htmx_config(client) -> dict:
    page = client.get(reverse("accounts:login")).content.decode()
    return json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page)[1])


def test_htmx_is_told_not_to_add_its_inline_style(client):
    assert htmx_config(client)["includeIndicatorStyles"] is False


def test_htmx_shows_switching_over_in_place_but_no_other_error(client):
    handling = htmx_config(client)["responseHandling"]
    first_match = {
        code: next(r for r in handling if re.fullmatch(r["code"], code))
        for code in ("200", "503", "500", "404")
    }
    assert first_match["503"]["swap"] is True
    assert not any(first_match[code]["swap"] for code in ("500", "404"))


def test_https_setting_turns_on_hsts_and_secure_cookies(tmp_path, settings):
    env = {**os.environ, "STEADFAST_HTTPS": "true", "STEADFAST_VAR_DIR": str(tmp_path)}
    names = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS"]
    code = (
        "import json, steadfast.settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {names!r}}})); "
        "print(json.dumps(s.SECURE_PROXY_SSL_HEADER))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    https = json.loads(out[0])
    assert https == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
    }

    for name, value in https.items():
        setattr(settings, name, value)
    settings.SECURE_PROXY_SSL_HEADER = tuple(json.loads(out[1]))
    user = UserFactory(username="kim")
    behind_tls = Client(HTTP_X_FORWARDED_PROTO="https")
    page = behind_tls.get(reverse("accounts:login"))
    assert page["Strict-Transport-Security"] == "max-age=31536000"
    assert page.cookies["csrftoken"]["secure"]
    logged_in = behind_tls.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert logged_in.cookies["sessionid"]["secure"] and logged_in.cookies["sessionid"]["httponly"]


def test_without_https_setting_no_hsts_is_sent(client):
    assert "Strict-Transport-Security" not in client.get(reverse("accounts:login"))


def test_a_post_without_the_csrf_token_is_refused():
    UserFactory(username="kim")
    strict = Client(enforce_csrf_checks=True)
    refused = strict.post(reverse("accounts:login"), {"username": "kim", "password": PASSWORD})
    assert refused.status_code == 403


def _pages(patterns=None, namespace=""):
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            yield from _pages(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else "")
        elif isinstance(p, URLPattern) and p.name:
            yield f"{namespace}{p.name}", p


@pytest.fixture
def practice_pages():
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    booked = appointments.book_appointment(SlotFactory(clinician=gp).pk, patient, gp)
    slot = SlotFactory(clinician=gp)
    alert = Alert.objects.create(practice=gp.practice, patient=patient, user=gp, reason="test")
    kwargs = {
        "appointment_id": booked.pk,
        "slot_id": slot.pk,
        "patient_id": patient.pk,
        "alert_id": alert.pk,
    }
    day = {"date": tomorrow().isoformat()}
    urls = []
    for name, pattern in _pages():
        needed = pattern.pattern.converters
        if all(k in kwargs for k in needed):
            urls.append(reverse(name, kwargs={k: kwargs[k] for k in needed}))
    return gp, urls, day


def test_every_post_form_on_every_page_carries_a_csrf_token(practice_pages):
    gp, urls, day = practice_pages
    people = [gp, *(UserFactory(practice=gp.practice, role=r) for r in Role)]
    forms, pages = [], 0
    anonymous = Client()
    responses = [anonymous.get(reverse("accounts:login"))]
    for person in people:
        client = Client()
        force_login_verified(client, person)
        responses += [client.get(url, day) for url in urls]
    pending = Client()  # a GP between password and code sees the second-factor page
    pending.force_login(GPFactory(practice=gp.practice))
    responses += [pending.get(reverse("accounts:second_factor"), follow=True)]
    for response in responses:
        if response.status_code == 200 and "text/html" in response["Content-Type"]:
            pages += 1
            page = parts(response)
            forms += page.post_forms
            assert page.inline_styles == 0, response.request["PATH_INFO"]
            nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
            assert set(page.inline_script_nonces) <= {nonce and nonce.group(1)}
    assert pages >= 40 and len(forms) >= 40  # the walk really reached the forms
    assert [f["action"] for f in forms if not f["csrf"]] == []
