"""Checkpoints anchor each practice's chain outside the database: written by appending every N
entries and after T minutes, by `audit-checkpoint` for quiet chains, signed, and sent to syslog
without anything about a patient."""

import io
import json
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

import steadfast.settings as configured
from steadfast import jobs
from steadfast.audit import checkpoints
from steadfast.audit.models import ChainHead
from steadfast.audit.services import record
from tests.factories import PatientFactory, PracticeFactory, UserFactory

# Real commits: appending writes a checkpoint only once its entry has committed.
pytestmark = pytest.mark.django_db(transaction=True)


def lines() -> list[dict]:
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def checkpointed(practice) -> list[int]:
    return [line["seq"] for line in lines() if line["chain"] == str(practice.pk)]


@pytest.fixture
def practice():
    return PracticeFactory()


def test_appending_checkpoints_a_chains_first_entry_and_every_n_entries(settings, practice):
    settings.AUDIT_CHECKPOINT_EVERY = 3
    for _ in range(7):
        record("test_entry", practice_id=practice.pk)
    assert checkpointed(practice) == [1, 4, 7]


def test_appending_checkpoints_once_the_interval_has_passed(settings, practice):
    record("test_entry", practice_id=practice.pk)
    record("test_entry", practice_id=practice.pk)
    assert checkpointed(practice) == [1]
    six_minutes_ago = timezone.now() - timedelta(minutes=6)
    ChainHead.objects.filter(chain=practice.pk).update(checkpoint_at=six_minutes_ago)
    record("test_entry", practice_id=practice.pk)
    record("test_entry", practice_id=practice.pk)
    assert checkpointed(practice) == [1, 3]


def test_practices_are_checkpointed_apart(settings):
    settings.AUDIT_CHECKPOINT_EVERY = 2
    first, second = PracticeFactory(), PracticeFactory()
    for _ in range(3):
        record("test_entry", practice_id=first.pk)
    record("test_entry", practice_id=second.pk)
    assert checkpointed(first) == [1, 3]
    assert checkpointed(second) == [1]


def test_an_entry_rolled_back_is_never_checkpointed(practice):
    with pytest.raises(RuntimeError), transaction.atomic():
        record("test_entry", practice_id=practice.pk)
        raise RuntimeError("the audited change failed")
    assert lines() == []


def test_a_copy_taken_before_the_entry_committed_is_not_expected_to_hold_it(practice):
    """Found by the SQLite backup test under load: a backup taken while an entry was being
    committed failed its check ("chain ends at place 400, checkpointed at 401"): the checkpoint
    was timed when the entry was made, before the copy, though written after the commit."""
    with transaction.atomic():
        record("test_entry", practice_id=practice.pk)  # the chain's first entry: checkpointed
        copy_taken = timezone.now()  # a copy now would not hold the uncommitted entry
    assert checkpointed(practice) == [1]
    assert str(practice.pk) not in checkpoints.read(as_of=copy_taken).by_chain
    assert checkpoints.read(as_of=timezone.now()).by_chain[str(practice.pk)].keys() == {1}


def test_a_checkpoint_that_cannot_be_written_does_not_fail_the_audited_action(
    settings, tmp_path, practice
):
    (tmp_path / "not-a-folder").write_text("")
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "not-a-folder" / "checkpoints.log"
    assert record("test_entry", practice_id=practice.pk).seq == 1


def test_the_command_checkpoints_chains_that_grew_and_all_of_them_on_request(practice):
    quiet, busy = PracticeFactory(), practice
    record("test_entry", practice_id=quiet.pk)
    record("test_entry", practice_id=busy.pk)
    out = io.StringIO()
    call_command("audit-checkpoint", stdout=out)
    assert "0 audit chain checkpoint(s) written" in out.getvalue()  # appending did, at place 1
    record("test_entry", practice_id=busy.pk)
    call_command("audit-checkpoint", stdout=out)
    assert "1 audit chain checkpoint(s) written" in out.getvalue()
    assert (checkpointed(quiet), checkpointed(busy)) == ([1], [1, 2])
    call_command("audit-checkpoint", "--all", stdout=io.StringIO())
    assert (checkpointed(quiet), checkpointed(busy)) == ([1, 1], [1, 2, 2])


def test_the_worker_checkpoints_the_chains_every_few_minutes(settings, practice):
    settings.AUDIT_CHECKPOINT_INTERVAL = timedelta(minutes=4)
    assert jobs.scheduler().get_job("audit-checkpoint").trigger.interval == timedelta(minutes=4)
    record("test_entry", practice_id=practice.pk)
    record("test_entry", practice_id=practice.pk)
    call_command("worker", "--once", stdout=io.StringIO())
    assert checkpointed(practice) == [1, 2]


def test_the_command_refuses_to_checkpoint_an_altered_head(practice):
    record("test_entry", practice_id=practice.pk)
    ChainHead.objects.filter(chain=practice.pk).update(last_seq=5)
    with pytest.raises(CommandError, match="refusing to checkpoint altered chain heads"):
        call_command("audit-checkpoint", stdout=io.StringIO())
    assert checkpointed(practice) == [1]


def test_a_forged_checkpoint_line_is_reported(practice):
    record("test_entry", practice_id=practice.pk)
    genuine = lines()[0]
    forged = {**genuine, "seq": 1000, "count": 1000}
    with Path(settings.AUDIT_CHECKPOINT_FILE).open("a") as file:
        file.write(json.dumps(forged) + "\n")
    with pytest.raises(CommandError, match="line 2 of the checkpoint file is forged"):
        call_command("audit-verify", stdout=io.StringIO())


def test_an_empty_trail_without_checkpoints_verifies():
    out = io.StringIO()
    call_command("audit-verify", stdout=out)
    assert "audit trail intact: 0 entries verified in 0 chain(s)" in out.getvalue()


def test_the_checkpoint_file_is_kept_apart_from_the_database_by_default():
    database = Path(configured.DATABASES["default"]["NAME"])
    checkpoint_file = Path(configured.AUDIT_CHECKPOINT_FILE)
    assert checkpoint_file.is_relative_to(configured.VAR_DIR)
    assert checkpoint_file.parent != database.parent


def test_checkpoints_go_to_syslog_without_anything_about_a_patient(settings, tmp_path):
    syslog = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    syslog.bind(str(tmp_path / "log"))
    syslog.settimeout(5)
    settings.AUDIT_SYSLOG_ADDRESS = str(tmp_path / "log")
    user = UserFactory(username="dr-example")
    patient = PatientFactory(practice=user.practice)
    try:
        record("view_patient", user=user, patient_id=patient.pk)
        message = syslog.recv(4096).decode()
    finally:
        syslog.close()
        checkpoints._syslog.cache_clear()
    assert "steadfast audit checkpoint" in message
    assert f'"chain":"{user.practice_id}"' in message
    assert str(patient.pk) not in message and "dr-example" not in message
    assert patient.family_name not in message
