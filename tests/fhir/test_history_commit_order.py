"""The history loses nothing when transactions commit out of order (PostgreSQL, real threads).

The classic trap: a number taken when a row is inserted is not commit order. T1 takes 10, T2
takes 11 and commits first; a follower that has read 11 never sees 10. Our numbers are taken at
commit, so a follower keeping its `next` link gets every change exactly once.
"""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction
from django_scopes import scopes_disabled

from steadfast.continuity.node.tokens import issue_node_token
from steadfast.fhir.models import Change
from tests.factories import PatientFactory, PracticeFactory
from tests.fhir.history import Follower, keys, urls

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def practice():
    return PracticeFactory()


@pytest.fixture
def follower(client, practice):
    return Follower(client, issue_node_token(practice, "node")[1], count=20)


def test_a_transaction_held_open_while_later_ones_commit_still_reaches_the_follower(
    follower, practice
):
    follower.catch_up()
    inserted, release = threading.Event(), threading.Event()

    def slow_registration():
        try:
            with scopes_disabled(), transaction.atomic():
                patient = PatientFactory(practice=practice)
                inserted.set()
                assert release.wait(30)
            return patient
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(slow_registration)
        assert inserted.wait(30)
        later = [PatientFactory(practice=practice) for _ in range(3)]
        before = follower.catch_up()
        release.set()
        slow = held.result()
    after = follower.catch_up()

    assert keys(before) == [("POST", f"Patient/{p.pk}") for p in later]
    assert keys(after) == [("POST", f"Patient/{slow.pk}")]
    # The trap, shown: the slow change was inserted first but committed last.
    slow_change = Change.objects.get(resource_type="Patient", resource_id=str(slow.pk))
    later_changes = Change.objects.filter(resource_id__in=[str(p.pk) for p in later])
    assert slow_change.id < min(c.id for c in later_changes)
    assert slow_change.seq > max(c.seq for c in later_changes)


WRITERS = 8
EACH = 15


def test_eight_writers_committing_in_any_order_reach_a_busy_follower_once_each(follower, practice):
    follower.catch_up()
    start_line = threading.Barrier(WRITERS + 1)
    done = threading.Event()

    def write(seed: int) -> list[str]:
        rng = random.Random(seed)
        made = []
        try:
            start_line.wait(30)
            for _ in range(EACH):
                with scopes_disabled(), transaction.atomic():
                    made.append(f"Patient/{PatientFactory(practice=practice).pk}")
                    time.sleep(rng.random() / 50)  # commit a little later, in no fixed order
            return made
        finally:
            connection.close()

    def follow() -> list[dict]:
        seen = []
        start_line.wait(30)
        while not done.is_set():
            seen += follower.page()
        connection.close()
        return seen

    with ThreadPoolExecutor(max_workers=WRITERS + 1) as pool:
        following = pool.submit(follow)
        writers = [pool.submit(write, n) for n in range(WRITERS)]
        written = [url for w in writers for url in w.result()]
        done.set()
        seen = following.result()
    seen += follower.catch_up()

    assert len(written) == WRITERS * EACH
    assert sorted(e["request"]["url"] for e in seen) == sorted(written)  # none lost, none twice
    assert urls(seen) == set(written)
