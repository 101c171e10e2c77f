"""Paging through the journal shows every entry once, newest first, even when many entries
share one moment (a consultation's entries all do)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from steadfast.records import queries, services
from tests.factories import GPFactory, PatientFactory
from tests.records.entries import ESSENTIAL_HYPERTENSION, concept, record_entries

pytestmark = pytest.mark.django_db


def all_pages(patient, types=None, limit=7) -> list:
    seen, before = [], None
    while True:
        page = queries.journal(patient, types=types, before=before, limit=limit)
        seen += [(item.entry_type, item.entry.pk, item.occurred_at) for item in page["items"]]
        if not page["next_cursor"]:
            return seen
        before = queries.parse_cursor(page["next_cursor"])


def test_paging_visits_every_entry_once_in_time_order():
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    other = PatientFactory(practice=gp.practice)
    record_entries(other, gp)  # another patient's entries never appear
    record_entries(patient, gp)
    same_moment = timezone.now() - timedelta(days=3)
    for value in range(12):
        services.record_observation(
            patient, gp, services.NewObservation("pulse", str(60 + value)), occurred_at=same_moment
        )
    for days in range(10):
        services.add_problem(
            patient,
            gp,
            services.NewProblem(concept(ESSENTIAL_HYPERTENSION)),
            occurred_at=timezone.now() - timedelta(days=days * 30),
        )

    seen = all_pages(patient)

    assert len(seen) == len({pk for _, pk, _ in seen}), "an entry appeared twice"
    expected = sum(
        model.objects.filter(patient=patient).count() for model, _ in queries.JOURNAL_TYPES.values()
    )
    assert len(seen) == expected
    keys = [(at, pk) for _, pk, at in seen]
    assert keys == sorted(keys, reverse=True)


def test_a_filtered_journal_pages_through_that_type_only():
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    record_entries(patient, gp)
    for value in range(20):
        services.record_observation(patient, gp, services.NewObservation("pulse", str(60 + value)))

    seen = all_pages(patient, types=["observation"], limit=6)

    assert {entry_type for entry_type, _, _ in seen} == {"observation"}
    assert len({pk for _, pk, _ in seen}) == 20
