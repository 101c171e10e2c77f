"""A Book press that reads its slot free, then loses it to a booking committed just before its own
claim: the answer's cell shows who has the slot now, not the free slot the press read."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django_scopes import scopes_disabled

from steadfast.appointments import services
from steadfast.appointments.models import Appointment
from tests.factories import PatientFactory, SlotFactory, london, tomorrow


def _waiting_for_a_lock() -> bool:
    """Whether a connection to this test's database waits on a lock (tests in other databases of
    the same server, run alongside, do not count)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_slot_taken_between_the_read_and_the_claim_is_answered_as_it_now_is(
    client, reception, gp
):
    start = london(tomorrow(), 9)
    slot = SlotFactory(clinician=gp, start=start, end=start + timedelta(minutes=10))
    ours = PatientFactory(practice=gp.practice, family_name="Quigley", given_name="Rosa")
    theirs = PatientFactory(practice=gp.practice, family_name="Ashworth", given_name="Ted")
    holding, release = threading.Event(), threading.Event()

    def other_desk_books_and_holds_its_commit():
        try:
            with scopes_disabled(), transaction.atomic():
                services.book_appointment(slot.pk, theirs, reception)
                holding.set()
                release.wait(timeout=30)  # the slot's row stays locked, the booking unseen
        finally:
            connection.close()

    def press_book():
        try:
            url = reverse("appointments:book", args=[slot.pk])
            return client.post(url, {"patient": ours.pk}, headers={"HX-Request": "true"})
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        other = pool.submit(other_desk_books_and_holds_its_commit)
        assert holding.wait(timeout=30)
        pressed = pool.submit(press_book)  # reads the slot free, then waits on its row
        deadline = time.monotonic() + 30
        while not (waited := _waiting_for_a_lock()) and time.monotonic() < deadline:
            time.sleep(0.01)
        release.set()
        assert waited, "the press never waited for the other booking's lock"
        other.result(timeout=30)
        response = pressed.result(timeout=30)

    cell, _, rest = response.text.partition("</td>")
    assert "That slot is no longer available" in rest
    assert "ASHWORTH, Ted" in cell and "QUIGLEY" not in cell
    assert "sf-book-button" not in cell
    assert list(Appointment.objects.filter(slot=slot).values_list("patient", flat=True)) == [
        theirs.pk
    ]
