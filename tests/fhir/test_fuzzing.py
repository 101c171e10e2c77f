"""A fuzzing pass over the FHIR API with what schemathesis does not send: resources that are
nearly right, then broken where servers break. Bodies over the size limit, nested far past any
real resource, partial and impossible dates, names with hidden characters, numbers too large for
any column; searches with partial dates, paging out of range and hostile text. Whatever is sent,
the answer is FHIR JSON, an OperationOutcome when refused, and never a 500.

Bounded for `make test`: derandomized, a fixed number of examples, no shrinking database.
"""

import copy
import json
import re
from datetime import date
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from steadfast.appointments import services
from steadfast.fhir.auth import make_token
from steadfast.fhir.capabilities import RESOURCES
from tests.factories import SlotFactory, UserFactory
from tests.fhir.test_transaction import EVERYTHING, PATIENT, bundle

# The body limit during this pass, so that bodies just over it cost little to send.
BODY_LIMIT = 200_000
FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

partial_dates = st.tuples(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)), st.sampled_from([4, 7, 10])
).map(lambda d: d[0].isoformat()[: d[1]])
odd_dates = st.sampled_from(
    [
        "1970",
        "1970-11",
        "0001-01-01",
        "9999-12-31",
        "9999-12-31T23:59:59+14:00",
        "0001-01-01T00:00:00-12:00",
        "1970-13",
        "1970-02-30",
        "1970-11-24T25:00:00Z",
        "2026-11-24T10:00:00",
        "19701124",
        "",
    ]
)
dates = partial_dates | odd_dates
hostile_text = st.text(max_size=40) | st.sampled_from(
    ["Okafor\u202erosserpmI", "Chi\u0000di", "\u2066Ng\u2069", "O'Brien\r\nX-Header: 1", "a" * 1000]
)
numbers = (
    st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | hostile_text | dates,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
DEEP = "\u0000deep:"  # a placeholder json.dumps can write; swapped for the nesting afterwards
NESTING = re.compile(r'"\\u0000deep:(\d+)"')


# What a value in a resource is changed to: a (partial or impossible) date, hostile text, any
# JSON, a placeholder for nesting thousands deep, or null.
CHANGES = (
    dates,
    hostile_text,
    json_values,
    st.integers(min_value=10, max_value=5_000).map(lambda n: f"{DEEP}{n}"),
    st.none(),
)


def _paths(value, prefix=()) -> list[tuple]:
    """Every place in a resource a value sits, as a path of keys and indexes."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _set(resource, path: tuple, value) -> None:
    target = resource
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


@st.composite
def broken(draw, template: dict) -> str:
    """`template` as JSON after a few of the changes that break servers."""
    resource = copy.deepcopy(template)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        path = draw(st.sampled_from(_paths(resource)))  # the root is a dict with resourceType
        _set(resource, path, draw(st.one_of(*CHANGES)))
    text = json.dumps(resource, allow_nan=True)
    for placeholder in reversed(list(NESTING.finditer(text))):  # real nesting, json.dumps can't
        depth = int(placeholder.group(1))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        nested = opener * depth + "1" + closer * depth
        text = text[: placeholder.start()] + nested + text[placeholder.end() :]
    if draw(st.sampled_from(range(10))) == 7:  # now and then: too big to take
        size = draw(st.integers(min_value=BODY_LIMIT - 200, max_value=BODY_LIMIT * 2))
        text = text[:-1] + f', "text": {{"div": "{"x" * size}"}}}}'
    return text


def assert_answered_in_fhir(response, what: str) -> None:
    assert response.status_code < 500, (what[:300], response.content[:500])
    assert response["Content-Type"].startswith("application/fhir+json"), what[:300]
    if response.status_code >= 400:
        assert json.loads(response.content)["resourceType"] == "OperationOutcome"


@pytest.fixture
def fuzzing(client, gp, patient, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = BODY_LIMIT
    manager = UserFactory(practice=gp.practice, role="practice_manager")
    reception = UserFactory(practice=gp.practice)
    slot, booked_slot = SlotFactory(clinician=gp), SlotFactory(clinician=gp)
    booked = services.book_appointment(booked_slot.pk, patient, reception)
    appointment = {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{slot.pk}"}],
        "participant": [{"actor": {"reference": f"Patient/{patient.pk}"}, "status": "accepted"}],
        "description": "Sore knee",
        "start": "2026-11-24T09:00:00Z",
    }
    amendment = appointment | {
        "id": str(booked.pk),
        "slot": [{"reference": f"Slot/{booked_slot.pk}"}],
        "status": "cancelled",
        "cancelationReason": {"coding": [{"code": "pat"}], "text": "Feeling better"},
    }
    tokens = {user: make_token(user) for user in (gp, manager, reception)}

    def send(method: str, path: str, body: str | None, user) -> None:
        headers = {"Authorization": f"Bearer {tokens[user]}"}
        kwargs = {"content_type": "application/fhir+json", "data": body} if body else {}
        response = getattr(client, method)(f"/fhir/{path}", headers=headers, **kwargs)
        assert_answered_in_fhir(response, f"{method} {path} {body}")

    return {
        "send": send,
        "writes": [
            ("post", "Patient", PATIENT, manager),
            ("post", "Appointment", appointment, reception),
            ("put", f"Appointment/{booked.pk}", amendment, reception),
            ("post", "", bundle(*EVERYTHING), gp),
        ],
        "reader": gp,
    }


@FUZZ
@given(data=st.data())
def test_broken_resources_and_bundles_never_get_a_500(fuzzing, data):
    method, path, template, user = data.draw(st.sampled_from(fuzzing["writes"]))
    fuzzing["send"](method, path, data.draw(broken(template)), user)


search_values = (
    dates
    | st.tuples(st.sampled_from(["eq", "ge", "gt", "le", "lt", "sa", "ap", "xx"]), dates).map(
        "".join
    )
    | numbers.map(str)
    | hostile_text
    | st.sampled_from(["Patient/1", "Patient/", "Slot:schedule", "free", "-1", "１２"])
)


@FUZZ
@given(data=st.data())
def test_odd_searches_and_reads_never_get_a_500(fuzzing, data):
    resource_type = data.draw(st.sampled_from(sorted(RESOURCES)))
    if data.draw(st.booleans()):
        names = RESOURCES[resource_type].parameters | {"_count", "_offset", "_include", "x"}
        params = data.draw(st.lists(st.tuples(st.sampled_from(sorted(names)), search_values)))
        path = f"{resource_type}?{urlencode(params)}"
    else:
        path = f"{resource_type}/{data.draw(hostile_text.filter(lambda t: '/' not in t))}"
    fuzzing["send"]("get", path, None, fuzzing["reader"])
