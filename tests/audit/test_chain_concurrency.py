"""Many requests audited at once on PostgreSQL: no errors, and each practice's chain unbroken.
Practices append side by side: one practice's writes never queue behind another's."""

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, transaction

from steadfast.audit.models import AuditEvent, ChainHead
from steadfast.audit.services import record
from tests.factories import PatientFactory, PracticeFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
WRITERS = 20


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
    call_command("audit-verify", stdout=io.StringIO())  # raises CommandError if broken


def test_two_practices_appending_at_once_keep_each_chain_whole(settings):
    settings.AUDIT_CHECKPOINT_EVERY = 7  # checkpoints written in the thick of it too
    practices = [PracticeFactory(), PracticeFactory()]
    per_writer = 15
    start_line = threading.Barrier(WRITERS)

    def append(k: int) -> str:
        practice = practices[k % 2]
        try:
            start_line.wait(timeout=30)
            for i in range(per_writer):
                record("test_entry", practice_id=practice.pk, read_only=i % 2 == 0)
            return "recorded"
        except Exception as exc:
            return type(exc).__name__
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        outcomes = list(pool.map(append, range(WRITERS)))

    assert outcomes == ["recorded"] * WRITERS
    out = io.StringIO()
    call_command("audit-verify", stdout=out)
    assert f"{WRITERS * per_writer} entries verified in 2 chain(s)" in out.getvalue()
    each = WRITERS // 2 * per_writer
    for practice in practices:
        places = list(
            AuditEvent.objects.filter(chain=practice.pk)
            .order_by("id")
            .values_list("seq", flat=True)
        )
        assert places == list(range(1, each + 1))
        assert ChainHead.objects.get(chain=practice.pk).last_seq == each


def test_one_practices_open_append_does_not_hold_up_another_practice():
    busy, other = PracticeFactory(), PracticeFactory()
    record("test_entry", practice_id=busy.pk)
    record("test_entry", practice_id=other.pk)
    appended, release = threading.Event(), threading.Event()

    def long_transaction():
        try:
            with transaction.atomic():
                record("test_entry", practice_id=busy.pk)
                appended.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=long_transaction)
    holder.start()
    try:
        assert appended.wait(timeout=30)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            record("test_entry", practice_id=other.pk)  # not queued behind the busy practice
        with (
            pytest.raises(OperationalError, match="lock timeout"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SET LOCAL lock_timeout = '200ms'")
            record("test_entry", practice_id=busy.pk)  # the same practice does queue
    finally:
        release.set()
        holder.join(timeout=30)
    assert ChainHead.objects.get(chain=other.pk).last_seq == 2
    call_command("audit-verify", stdout=io.StringIO())
