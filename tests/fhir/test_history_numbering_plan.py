"""Numbering a transaction's changes at commit stays one pass, whatever the planner believes.

Found in the suite: after autovacuum had seen `fhir_change` empty (statistics of 0 rows over many
pages), a test that loads the demo twice spent 5-10 minutes in its commit-time numbering. The
planner, told the table was empty, joined a window subquery to the table and scanned it again for
every row: 2,000 changes took 4.8 s, 8,000 took 76 s. A practice bulk-loading after a quiet night
would have hit the same. The numbering now goes row by row by primary key.
"""

import pytest
from django.db import connection

from steadfast.fhir.models import Change
from tests.factories import PracticeFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
CHANGES = 8_000


def test_a_commit_numbers_thousands_of_changes_even_when_statistics_say_the_table_is_empty():
    practice = PracticeFactory()
    with connection.cursor() as cursor:
        # What autovacuum leaves after rolled-back tests: no live rows over many pages.
        cursor.execute(
            "UPDATE pg_class SET reltuples = 0, relpages = 20"
            " WHERE relname IN ('fhir_change', 'fhir_change_pkey', 'change_unnumbered')"
        )
        cursor.execute(
            "INSERT INTO fhir_change (practice_id, resource_type, resource_id, seq, created,"
            " deleted, changed_at) SELECT %s, 'Patient', n::text, NULL, true, false, now()"
            " FROM generate_series(1, %s) AS n",
            [practice.id, CHANGES],
        )
        # Each change touched again before commit, as a booking touches its slot.
        cursor.execute("UPDATE fhir_change SET changed_at = now() WHERE seq IS NULL")
        # A guard, not a measurement: the old plan needed over a minute, one pass needs well
        # under a second.
        cursor.execute("SET LOCAL statement_timeout = '30s'")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT runs
        cursor.execute("SET LOCAL statement_timeout = 0")

    changes = Change.objects.filter(practice_id=practice.id)
    assert not changes.filter(seq__isnull=True).exists()
    numbers = sorted(changes.values_list("seq", flat=True))
    assert numbers == list(range(1, CHANGES + 2))  # and the practice's own (Organization)
