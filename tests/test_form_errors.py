"""One way to render a form (includes/forms.jinja, on the NHS.UK macros): a field in error shows
its own message, the error summary at the top links to it, and the page title starts "Error:"."""

import re

import pytest
from django import forms
from django.template import engines

from tests.factories import GPFactory, PatientFactory, force_login_verified

pytestmark = pytest.mark.django_db


def summary_links(html: str) -> list[str]:
    """The anchors the error summary at the top of the page links to."""
    start = html.find('class="nhsuk-error-summary"')
    assert start >= 0, "no error summary on the page"
    heading = html.find("<h1")
    assert heading < 0 or start < heading, "the error summary is not at the top of the page"
    return re.findall(r'href="#([^"]+)"', html[start : html.index("</ul>", start)])


def title(html: str) -> str:
    return re.search(r"<title>\s*(.*?)\s*</title>", html, re.S).group(1)


def field_error(html: str, field_id: str) -> str:
    """The error message the field with this id shows beside itself (and points to)."""
    start = html.find(f'id="{field_id}-error"')
    assert start >= 0, f"{field_id} shows no error"
    assert re.search(rf'id="{field_id}"[^>]*aria-describedby="[^"]*{field_id}-error', html)
    end = html.index("</span>", html.index("</span>", start) + 1)
    text = re.sub(r"<[^>]+>", "", html[html.index(">", start) + 1 : end])
    return text.replace("Error:", "").strip()


@pytest.fixture
def gp_client(client):
    gp = GPFactory()
    force_login_verified(client, gp)
    client.patient = PatientFactory(practice=gp.practice)
    return client


def test_a_record_form_with_field_errors_links_each_from_the_summary(gp_client):
    patient = gp_client.patient
    response = gp_client.post(
        f"/record/patients/{patient.pk}/consultation/",
        {"consultation_type": "séance", "bp_systolic": "high", "pulse": "72", "save": "1"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert summary_links(html) == ["id_consultation_type", "id_bp_systolic"]
    assert field_error(html, "id_bp_systolic") == "Enter a number."
    assert "is not one of the available choices" in field_error(html, "id_consultation_type")
    assert title(html).startswith("Error: Consultation")


def test_a_page_without_errors_has_a_plain_title(gp_client):
    response = gp_client.get(f"/record/patients/{gp_client.patient.pk}/consultation/")
    html = response.content.decode()
    assert response.status_code == 200
    assert title(html).startswith("Consultation")
    assert "nhsuk-error-summary" not in html


class _NoteForm(forms.Form):
    kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")])
    note = forms.CharField(widget=forms.Textarea, max_length=5)
    when = forms.DateField()


@pytest.mark.parametrize(
    "macro, field", [("textarea_field", "note"), ("select_field", "kind"), ("text_field", "when")]
)
def test_every_kind_of_field_shows_its_own_error(macro, field):
    form = _NoteForm({"kind": "z", "note": "far too long", "when": "31/02/2026"})
    assert not form.is_valid()
    env = engines["jinja2"].env
    html = env.from_string(
        f'{{% from "includes/forms.jinja" import {macro}, error_summary %}}'
        f"{{{{ error_summary(form) }}}}{{{{ {macro}(form.{field}) }}}}"
    ).render(form=form)
    assert field_error(html, f"id_{field}") == form.errors[field][0]
    assert summary_links(html) == ["id_kind", "id_note", "id_when"]


def test_the_login_page_title_says_error_when_the_form_is_refused(client):
    response = client.post("/accounts/login/", {"username": "", "password": ""})
    html = response.content.decode()
    assert title(html).startswith("Error: Log in")
    assert summary_links(html) == ["id_username", "id_password"]
