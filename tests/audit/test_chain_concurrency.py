"""Many requests audited at once, from an empty trail, on PostgreSQL: no errors, one chain."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection

from steadfast.audit.models import AuditEvent
from steadfast.audit.services import record
from tests.factories import PatientFactory, UserFactory

WRITERS = 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_first_entries_written_at_once_form_one_unbroken_chain():
    assert not AuditEvent.objects.exists()
    user = UserFactory()
    patients = [PatientFactory(practice=user.practice) for _ in range(WRITERS)]
    start_line = threading.Barrier(WRITERS)

    def view(patient):
        try:
            start_line.wait(timeout=30)
            record("view_record_summary", user=user, patient_id=patient.pk, read_only=True)
            return "recorded"
        except Exception as exc:  # any failure, reported by its type
            return type(exc).__name__
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        outcomes = list(pool.map(view, patients))

    assert outcomes == ["recorded"] * WRITERS
    assert AuditEvent.objects.count() == WRITERS
    call_command("audit-verify")  # raises CommandError if the chain is broken
