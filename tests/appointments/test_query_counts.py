"""How many queries booking and the day's book cost: a fixed number, whatever the day holds.

A change that adds a query per slot, per appointment or per clinician fails here; so does one
that adds a query to every booking (the 8 a.m. rush pays for each).
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from markupsafe import escape

from steadfast.appointments import services
from steadfast.appointments.models import Slot
from steadfast.fhir.auth import make_token
from tests.factories import (
    GPFactory,
    PatientFactory,
    SlotFactory,
    force_login_verified,
    london,
    tomorrow,
)

pytestmark = pytest.mark.django_db

# Session with its user and practice; slot and patient together; then the transaction: on
# PostgreSQL BEGIN, one statement claiming the slot, inserting the appointment and its history
# and locking the audit chain's head, one writing the audit entry, COMMIT. (SQLite's transaction
# takes the rows one statement each.)
BOOKING_QUERIES = {"postgresql": 6, "sqlite": 10}
# The same through FHIR: the bearer token's user instead of the session.
FHIR_BOOKING_QUERIES = {"postgresql": 6, "sqlite": 10}
# Book pressed on a slot already taken (most of the 8 a.m. rush): session, slot (as its cell
# shows it) and patient, the nearest free slots; no transaction.
LOST_RACE_QUERIES = 3


def fill_day(gp, reception, clinicians: int, slots_each: int) -> None:
    """`clinicians` clinicians of gp's practice with `slots_each` slots tomorrow, every third
    booked and every sixth of those arrived."""
    people = [gp] + [GPFactory(practice=gp.practice) for _ in range(clinicians - 1)]
    slots = [
        Slot(
            practice=gp.practice,
            clinician=c,
            start=london(tomorrow(), 8) + timedelta(minutes=5 * n),
            end=london(tomorrow(), 8) + timedelta(minutes=5 * (n + 1)),
        )
        for c in people
        for n in range(slots_each)
    ]
    Slot.objects.bulk_create(slots)
    for n, slot in enumerate(slots[::3]):
        booked = services.book_appointment(slot.pk, PatientFactory(practice=gp.practice), reception)
        if n % 2:
            services.mark_arrived(booked, reception)


def queries_for(client, url: str, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    ("view", "limit"),
    [
        ("appointments:day", 8),
        ("appointments:arrivals", 8),
        ("appointments:my_list", 10),
    ],
)
def test_day_view_and_lists_cost_the_same_queries_for_a_full_day_as_for_a_quiet_one(
    client, gp, reception, view, limit
):
    if view == "appointments:my_list":
        force_login_verified(client, gp)
    fill_day(gp, reception, clinicians=1, slots_each=3)
    quiet = queries_for(client, reverse(view), date=tomorrow().isoformat())

    fill_day(GPFactory(practice=gp.practice), reception, clinicians=4, slots_each=12)
    busy = queries_for(client, reverse(view), date=tomorrow().isoformat())

    assert busy == quiet
    assert busy <= limit


def test_day_view_booking_for_a_patient_or_narrowed_costs_the_same_queries_for_a_full_day(
    client, gp, reception
):
    patient = PatientFactory(practice=gp.practice)
    fill_day(gp, reception, clinicians=1, slots_each=3)
    day = tomorrow().isoformat()
    quiet = [
        queries_for(client, reverse("appointments:day"), date=day, patient=patient.pk),
        queries_for(client, reverse("appointments:day"), date=day, clinician=gp.pk),
        queries_for(client, reverse("appointments:day"), date=day, slot_type="routine"),
    ]

    fill_day(GPFactory(practice=gp.practice), reception, clinicians=4, slots_each=12)
    busy = [
        queries_for(client, reverse("appointments:day"), date=day, patient=patient.pk),
        queries_for(client, reverse("appointments:day"), date=day, clinician=gp.pk),
        queries_for(client, reverse("appointments:day"), date=day, slot_type="routine"),
    ]

    assert busy == quiet


def press_book(client, slot, patient):
    """The Book button of the day view, pressed for `patient` in `slot` (htmx)."""
    return client.post(
        reverse("appointments:book", args=[slot.pk]),
        {"patient": patient.pk, "reason": "Cough"},
        headers={"HX-Request": "true"},
    )


def counted_press(client, warm_up_slot, slot, patient) -> tuple:
    """(the answer, its SQL) of pressing Book in `slot`, after one press in `warm_up_slot` (it
    stamps the session's activity, which a request makes once a minute at most)."""
    press_book(client, warm_up_slot, patient)
    with CaptureQueriesContext(connection) as captured:
        response = press_book(client, slot, patient)
    return response, [q["sql"] for q in captured]


def test_booking_from_the_day_view_costs_a_fixed_number_of_queries(client, gp, reception):
    patient = PatientFactory(practice=gp.practice)
    first, second = SlotFactory(clinician=gp), SlotFactory(clinician=gp)

    response, sql = counted_press(client, first, second, patient)

    assert "Booked " in response.text
    assert len(sql) <= BOOKING_QUERIES[connection.vendor], [q[:80] for q in sql]


def test_booking_through_fhir_costs_a_fixed_number_of_queries(gp, reception):
    patient = PatientFactory(practice=gp.practice)
    slot = SlotFactory(clinician=gp)
    body = {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{slot.pk}"}],
        "participant": [{"actor": {"reference": f"Patient/{patient.pk}"}, "status": "accepted"}],
    }
    headers = {"Authorization": f"Bearer {make_token(reception)}"}
    api = Client()  # an integrating system: a bearer token, no session cookie

    with CaptureQueriesContext(connection) as captured:
        response = api.post(
            "/fhir/Appointment", body, content_type="application/fhir+json", headers=headers
        )

    assert response.status_code == 201
    assert len(captured) <= FHIR_BOOKING_QUERIES[connection.vendor], [
        q["sql"][:80] for q in captured
    ]


def test_book_pressed_on_a_slot_already_taken_costs_three_queries_and_no_transaction(
    client, gp, reception
):
    patient, holder = PatientFactory(practice=gp.practice), PatientFactory(practice=gp.practice)
    taken, later = SlotFactory(clinician=gp), SlotFactory(clinician=gp)
    services.book_appointment(taken.pk, holder, reception)

    response, sql = counted_press(client, later, taken, patient)

    assert "That slot is no longer available" in response.text
    # The pressed cell, swapped in, shows who has the slot now, and no Book button.
    assert f'id="slot-{taken.pk}"' in response.text
    assert str(escape(holder.listing_name)) in response.text
    assert reverse("appointments:book", args=[taken.pk]) not in response.text
    assert len(sql) <= LOST_RACE_QUERIES, [q[:80] for q in sql]
    assert not any(q.startswith(("UPDATE", "INSERT", "WITH", "SAVEPOINT")) for q in sql)
