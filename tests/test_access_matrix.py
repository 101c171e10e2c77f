"""Every URL, as every role, as someone from another practice, and as nobody.

The expectations come from the activity table in steadfast/accounts/access.py, so adding a page
or changing who may use it changes this test without anyone choosing a sample.
"""

import uuid
from urllib.parse import urlencode

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from steadfast.accounts.access import ACTIVITIES
from steadfast.accounts.models import Role
from steadfast.appointments import services as appointments
from steadfast.audit.models import Alert
from steadfast.continuity.downtime.models import EntryStatus, ReceivedEntry
from steadfast.continuity.node.tokens import issue_node_token
from tests.factories import (
    GPFactory,
    PatientFactory,
    SessionTemplateFactory,
    SlotFactory,
    UserFactory,
    force_login_verified,
    tomorrow,
)
from tests.records.entries import record_entries

# Pages anyone may reach: signing in and out, and the start page that sends you onwards; and
# anyone's own account and second factor, whatever their role (tested in tests/accounts/).
PUBLIC = {"home", "accounts:login", "accounts:logout", "accounts:no_access"}
PUBLIC |= {
    "accounts:me",
    "accounts:sign_out_everywhere",
    "accounts:second_factor",
    "accounts:set_up_second_factor",
}
# The downtime service worker script holds no data; it must load for a browser whose session has
# ended, or the offline copy could not be kept up to date.
PUBLIC |= {"continuity:service_worker"}
IDENTITIES = [*(r.value for r in Role), "other_practice", "anonymous"]
# List pages are asked for the day and the search that would show practice A's patient.
LIST_QUERIES = {
    "appointments:day": lambda: {"date": tomorrow().isoformat()},
    "appointments:arrivals": lambda: {"date": tomorrow().isoformat()},
    "appointments:my_list": lambda: {"date": tomorrow().isoformat()},
    "appointments:day_pdf": lambda: {"date": tomorrow().isoformat()},
    "appointments:arrivals_pdf": lambda: {"date": tomorrow().isoformat()},
    "appointments:my_list_pdf": lambda: {"date": tomorrow().isoformat()},
    "patients:search": lambda: {"q": "winter"},
}
SHOWS_PATIENT = {"appointments:day", "appointments:arrivals", "patients:search"}


def routes(patterns=None, namespace="") -> list[tuple[str, object]]:
    found = []
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            found += routes(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            found.append((f"{namespace}{p.name}", p))
    return found


# The FHIR API answers with OperationOutcomes (401, not a redirect to the login page): its own
# matrix, from the same activity table, is tests/fhir/test_access.py. A practice node's own
# endpoints answer a node token only, never a person (tests/continuity/test_node_tokens.py,
# test_node_pack.py).
MACHINE_ONLY = {"node:staff", "node:pack"}
PROTECTED = [
    (name, p)
    for name, p in routes()
    if name not in PUBLIC | MACHINE_ONLY and not name.startswith("fhir:")
]


def test_every_page_declares_the_activity_it_needs():
    undeclared = [name for name, p in PROTECTED if getattr(p.callback, "activity", None) is None]
    assert undeclared == []
    assert all(p.callback.activity in ACTIVITIES for _, p in PROTECTED)


@pytest.fixture
def world(db):
    gp = GPFactory()
    practice = gp.practice
    patient = PatientFactory(practice=practice, family_name="Winterbottom")
    slot = SlotFactory(clinician=gp)
    booked = appointments.book_appointment(slot.pk, patient, gp)
    alert = Alert.objects.create(practice=practice, patient=patient, user=gp, reason="test")
    record = record_entries(patient, gp)
    node_token, _ = issue_node_token(practice, "matrix")
    entry = ReceivedEntry.objects.create(
        id=uuid.uuid4(),
        practice=practice,
        node_name="matrix",
        seq=1,
        action="book_appointment",
        data={"slot": str(slot.pk), "patient": str(patient.pk), "reason": ""},
        author=gp,
        occurred_at=timezone.now(),
        status=EntryStatus.CONFLICT,
        conflict="slot_taken",
    )
    return {
        "practice": practice,
        "kwargs": {
            "appointment_id": booked.pk,
            "slot_id": SlotFactory(clinician=gp).pk,
            "patient_id": patient.pk,
            "alert_id": alert.pk,
            "token_id": node_token.pk,
            "entry_id": entry.pk,
            "user_id": gp.pk,
            "session_id": SessionTemplateFactory(clinician=gp).pk,
            **record,
        },
    }


def visit(client, url):
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, {})
    return response


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize(("name", "pattern"), PROTECTED, ids=[n for n, _ in PROTECTED])
def test_role_may_or_may_not_use_each_page(client, world, name, pattern, identity):
    activity = pattern.callback.activity
    allowed_roles = ACTIVITIES[activity]
    kwargs = {k: world["kwargs"][k] for k in pattern.pattern.converters}
    url = reverse(name, kwargs=kwargs)
    if name in LIST_QUERIES:
        url += "?" + urlencode(LIST_QUERIES[name]())

    if identity == "anonymous":
        response = visit(client, url)
        assert response.status_code == 302 and "/accounts/login/" in response.url
        return
    if identity == "other_practice":
        role = sorted(allowed_roles)[0]
        force_login_verified(client, UserFactory(role=role))  # a practice of their own
        response = visit(client, url)
        if kwargs:
            assert response.status_code == 404
        else:
            # (A PDF's text is compressed: tests/operations/test_printing.py reads what it shows.)
            assert "WINTERBOTTOM" not in response.content.decode(errors="replace")
        return

    force_login_verified(client, UserFactory(practice=world["practice"], role=identity))
    response = visit(client, url)
    if identity in allowed_roles:
        assert response.status_code in (200, 302, 400)
        if response.status_code == 302:
            assert "/accounts/login/" not in response.url
        if name in SHOWS_PATIENT:  # the other-practice check above is not vacuous
            assert "WINTERBOTTOM" in response.content.decode()
    else:
        assert response.status_code == 403
