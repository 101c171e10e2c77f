"""`steadfast worker`: one scheduler, a registry of jobs, and the downtime-pack job itself."""

import os
from datetime import timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from django.core.management import call_command
from django.utils import timezone

from steadfast import jobs
from steadfast.continuity import services
from steadfast.continuity.jobs import build_downtime_packs
from tests.continuity.conftest import PASSPHRASE, opened


@pytest.fixture
def pack_dir(settings, tmp_path):
    settings.PACK_DIR = tmp_path / "packs"
    return settings.PACK_DIR


def test_scheduler_runs_every_registered_job_at_its_interval(settings):
    settings.PACK_EVERY_MINUTES = 7
    scheduler = jobs.scheduler()
    job = scheduler.get_job("downtime-pack")  # not started: nothing runs
    assert isinstance(job.trigger, IntervalTrigger)
    assert job.trigger.interval == timedelta(minutes=7)


def test_a_job_that_fails_is_logged_and_the_worker_goes_on(db, caplog):
    jobs.run_job(jobs.PeriodicJob("failing", "tests.continuity.test_worker.explode", lambda: 1))
    assert "job failing failed" in caplog.text


def test_a_job_missing_from_the_code_stops_the_worker_at_start():
    with pytest.raises(ImportError):
        jobs.scheduler(
            [jobs.PeriodicJob("typo", "steadfast.continuity.jobs.no_such_job", lambda: 1)]
        )


def explode() -> None:
    raise RuntimeError("boom")


def test_worker_once_stores_a_pack_that_opens(clinic, pack_dir, monkeypatch):
    monkeypatch.setenv("STEADFAST_PACK_PASSPHRASE", PASSPHRASE)
    call_command("worker", "--once")
    [stored] = services.stored_packs(clinic.practice)
    assert stored.path.parent == pack_dir
    assert opened(stored.path.read_bytes())["register"][1]["name"] == "FAIRWEATHER, Imogen"


def test_the_folder_keeps_only_the_newest_packs(clinic, pack_dir, settings):
    settings.PACK_KEEP = 3
    start = timezone.now()
    made = [
        services.store_pack(clinic.practice, PASSPHRASE, now=start + timedelta(minutes=15 * n))
        for n in range(5)
    ]
    kept = services.stored_packs(clinic.practice)
    assert [p.name for p in kept] == [p.name for p in reversed(made[2:])]
    assert sorted(p.name for p in pack_dir.iterdir()) == sorted(p.name for p in kept)
    assert services.latest_pack(clinic.practice).name == made[-1].name


def test_a_pack_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    target = tmp_path / "pack.html"
    target.write_bytes(b"the previous pack")

    def fail_midway(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail_midway)
    with pytest.raises(OSError, match="disk full"):
        services.write_atomically(target, b"x" * 1_000_000)
    assert target.read_bytes() == b"the previous pack"
    assert [p.name for p in tmp_path.iterdir()] == ["pack.html"]


def test_job_makes_no_pack_with_a_passphrase_that_does_not_match(
    clinic, pack_dir, monkeypatch, caplog
):
    monkeypatch.setenv("STEADFAST_PACK_PASSPHRASE", "an old passphrase")
    assert build_downtime_packs() == 0
    assert services.stored_packs(clinic.practice) == []
    assert f"downtime pack for {clinic.practice.ods_code} not built" in caplog.text


def test_job_without_any_passphrase_says_how_to_give_one(
    clinic, pack_dir, monkeypatch, caplog, settings
):
    monkeypatch.delenv("STEADFAST_PACK_PASSPHRASE", raising=False)
    settings.PACK_PASSPHRASE_FILE = ""
    assert build_downtime_packs() == 0
    assert "STEADFAST_PACK_PASSPHRASE" in caplog.text
