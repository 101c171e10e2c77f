"""What each cell of the day view says: booked, blocked, over, not yet released or free, and
the same cell in the Book answer as on the page."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from steadfast.appointments import services
from steadfast.appointments.models import CancelledBy, SlotStatus
from steadfast.practices.models import DeliveryMode, ReservedFor, SlotType
from tests.factories import PatientFactory, SlotFactory, london

pytestmark = pytest.mark.django_db


def slot_at(gp, hour: int, minute: int = 0, **fields):
    start = london(timezone.localdate(), hour, minute)
    return SlotFactory(clinician=gp, start=start, end=start + timedelta(minutes=10), **fields)


def cell_of(page: str, slot) -> str:
    """The slot's cell, its whitespace closed up."""
    found = re.search(rf'<td id="slot-{slot.pk}"[^>]*>.*?</td>', page, re.S)
    assert found, f"no cell for {slot}"
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", found.group(0)))


def today_page(client, **params) -> str:
    return client.get(
        reverse("appointments:day"), {"date": timezone.localdate().isoformat(), **params}
    ).text


def test_each_cell_says_what_the_slot_is_now(client, reception, gp):
    """The clock stands at 10:00 (FROZEN_AT)."""
    over = slot_at(gp, 8, slot_type=SlotType.URGENT)
    booked = slot_at(gp, 11, delivery_mode=DeliveryMode.TELEPHONE)
    first = PatientFactory(practice=gp.practice, family_name="Ashworth", given_name="Kit")
    patient = PatientFactory(
        practice=gp.practice, family_name="Quigley", given_name="Rosa", title="Ms"
    )
    # A cancelled appointment stays on the slot: the cell shows the live one.
    cancelled = services.book_appointment(booked.pk, first, reception)
    services.cancel_appointment(cancelled, CancelledBy.PATIENT, "Better", reception)
    appointment = services.book_appointment(booked.pk, patient, reception)
    services.mark_arrived(appointment, reception)
    blocked = slot_at(gp, 10, 30, status=SlotStatus.BLOCKED)
    embargoed = slot_at(
        gp,
        11,
        30,
        delivery_mode=DeliveryMode.TELEPHONE,
        embargoed_until=london(timezone.localdate(), 10, 45),
    )
    free = slot_at(gp, 12, delivery_mode=DeliveryMode.VIDEO, reserved_for=ReservedFor.ONLINE)

    page = today_page(client)

    assert cell_of(page, over) == (
        f'<td id="slot-{over.pk}" class="sf-slot sf-slot--past">'
        '<span class="sf-slot__meta">Urgent (on the day)</span></td>'
    )
    appointment_url = reverse("appointments:detail", args=[appointment.pk])
    assert cell_of(page, booked) == (
        f'<td id="slot-{booked.pk}" class="sf-slot sf-slot--booked sf-slot--arrived'
        f' sf-slot--routine"><a href="{appointment_url}" aria-label="QUIGLEY, Rosa (Ms), Arrived,'
        f' {gp.display_name}, 11:00, Routine, Telephone">QUIGLEY, Rosa (Ms)</a>'
        '<span class="sf-slot__meta">☎ Arrived</span></td>'
    )
    assert cell_of(page, blocked) == (
        f'<td id="slot-{blocked.pk}" class="sf-slot sf-slot--blocked">Blocked</td>'
    )
    assert cell_of(page, embargoed) == (
        f'<td id="slot-{embargoed.pk}" class="sf-slot sf-slot--embargoed sf-slot--routine">'
        '<span class="sf-slot__meta">☎ Released 10:45</span></td>'
    )
    assert cell_of(page, free) == (
        f'<td id="slot-{free.pk}" class="sf-slot sf-slot--free sf-slot--routine">'
        f'<a href="{reverse("appointments:book", args=[free.pk])}" aria-label="Free, book'
        f' {gp.display_name}, 12:00, Routine, Video">Free</a>'
        '<span class="sf-slot__meta">▶ Routine · Online booking</span></td>'
    )


def test_names_in_a_cell_are_escaped(client, reception, gp):
    slot = slot_at(gp, 11)
    patient = PatientFactory(practice=gp.practice, family_name="O'Brien", given_name="<b>Al</b>")
    services.book_appointment(slot.pk, patient, reception)

    cell = cell_of(today_page(client), slot)

    assert "O&#39;BRIEN, &lt;b&gt;Al&lt;/b&gt;" in cell and "<b>" not in cell


def test_the_book_answer_draws_the_cell_as_the_day_view_then_shows_it(client, reception, gp):
    slot = slot_at(gp, 11, delivery_mode=DeliveryMode.VIDEO)
    patient = PatientFactory(practice=gp.practice, family_name="Quigley", given_name="Rosa")
    taken = slot_at(gp, 12)
    services.book_appointment(taken.pk, PatientFactory(practice=gp.practice), reception)

    booked = client.post(
        reverse("appointments:book", args=[slot.pk]),
        {"patient": patient.pk, "reason": "Cough"},
        headers={"HX-Request": "true"},
    ).text
    lost = client.post(
        reverse("appointments:book", args=[taken.pk]),
        {"patient": patient.pk, "reason": "Cough"},
        headers={"HX-Request": "true"},
    ).text

    page = today_page(client)
    oob = ' hx-swap-oob="true"'
    assert cell_of(booked, slot).replace(oob, "") == cell_of(page, slot)
    assert "QUIGLEY, Rosa" in cell_of(page, slot)
    # The pressed cell of a slot someone else took shows who has it now, as the page does.
    assert cell_of(lost, taken).replace(oob, "") == cell_of(page, taken)
