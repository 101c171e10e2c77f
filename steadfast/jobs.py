"""The periodic jobs `steadfast worker` runs, in one registry, on one scheduler (APScheduler).

To add a job, add a line to JOBS: a name, the dotted path of a function taking no arguments, and
how often (in minutes, usually from a setting). The function does its own logging; the worker
keeps going if it raises, and never runs two copies of one job at once. See docs/adr/ for why
APScheduler.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    function: str  # dotted path, imported when the worker starts
    every_minutes: Callable[[], float]  # read when the worker starts, so settings apply


JOBS: list[PeriodicJob] = [
    PeriodicJob(
        "downtime-pack",
        "steadfast.continuity.jobs.build_downtime_packs",
        lambda: settings.PACK_EVERY_MINUTES,
    ),
    PeriodicJob(
        "audit-checkpoint",  # anchors quiet audit chains too (steadfast/audit/checkpoints.py)
        "steadfast.audit.services.checkpoint_chains",
        lambda: settings.AUDIT_CHECKPOINT_INTERVAL.total_seconds() / 60,
    ),
    PeriodicJob(
        "sqlite-backup",
        "steadfast.sqlite_backup.scheduled_backup",
        lambda: settings.BACKUP_EVERY_MINUTES,
    ),
]
# A practice node (STEADFAST_NODE=1) follows the central server every few seconds, and copies
# the central server's latest downtime pack: it never builds one (it has no passphrase).
NODE_FOLLOW = PeriodicJob(
    "node-follow",
    "steadfast.continuity.node.jobs.follow_central_server",
    lambda: settings.NODE_FOLLOW_SECONDS / 60,
)
NODE_PACK = PeriodicJob(
    "node-pack",
    "steadfast.continuity.node.jobs.copy_downtime_pack",
    lambda: settings.NODE_PACK_MINUTES,
)
if settings.NODE_MODE:
    JOBS = [job for job in JOBS if job.name != "downtime-pack"] + [NODE_FOLLOW, NODE_PACK]


def run_job(job: PeriodicJob) -> None:
    """One run of a job: errors are logged, never fatal."""
    try:
        import_string(job.function)()
    except Exception:
        logger.exception("job %s failed", job.name)


def _run_on_scheduler_thread(job: PeriodicJob) -> None:
    """As a request does: no stale connection going in, none left open coming out (each run
    may be on another of the scheduler's threads)."""
    close_old_connections()
    try:
        run_job(job)
    finally:
        connections.close_all()


def scheduler(jobs: list[PeriodicJob] | None = None) -> BlockingScheduler:
    """A scheduler holding every job, each first run at once and then every N minutes.

    A run that is late (the machine slept, a run overran) is run once, not once per missed
    interval, and a job never overlaps itself.
    """
    chosen = BlockingScheduler(
        timezone=settings.TIME_ZONE,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    for job in JOBS if jobs is None else jobs:
        import_string(job.function)  # a typo fails at start, not in 15 minutes
        chosen.add_job(
            _run_on_scheduler_thread,
            IntervalTrigger(minutes=job.every_minutes()),
            args=[job],
            id=job.name,
            name=job.name,
            next_run_time=timezone.now(),
        )
    return chosen
