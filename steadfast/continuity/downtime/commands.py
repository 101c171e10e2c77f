"""`steadfast node downtime start|stop` and `steadfast node reconcile` (the node command's)."""

from django.core.management.base import CommandError
from django.utils import timezone

from steadfast.continuity.downtime.reconcile import ReconcileError, reconcile
from steadfast.continuity.downtime.services import start_downtime, stop_downtime
from steadfast.continuity.node.follow import FollowError, follow_once
from steadfast.continuity.node.queries import follower_state

DOWNTIME_ACTIONS = ("downtime", "reconcile")


def add_downtime_commands(commands) -> None:
    downtime = commands.add_parser(
        "downtime",
        help="start or stop downtime working (writes on the node, journalled)",
        description="While the central server is unreachable, `start` lets staff book, arrive "
        "and record on the node; every write is journalled for `steadfast node reconcile`.",
    )
    downtime.add_argument("switch", choices=["start", "stop"])
    commands.add_parser(
        "reconcile",
        help="send the downtime journal to the central server, then follow again",
    )


def run_downtime_command(action: str, options: dict, stdout) -> None:
    if follower_state() is None:
        raise CommandError("This node is not set up: run `steadfast node init`.")
    if action == "downtime":
        if options["switch"] == "start":
            session = start_downtime()
            since = timezone.localtime(session.started_at)
            stdout.write(f"Downtime working since {since:%H:%M}: every write is journalled.")
        else:
            stop_downtime()
            stdout.write("Downtime working stopped. Run `steadfast node reconcile`.")
        return
    try:
        summary = reconcile()
    except ReconcileError as exc:
        raise CommandError(f"Reconcile stopped: {exc}. Nothing is lost; run it again.") from exc
    if summary.conflicts:
        stdout.write(
            f"{summary.conflicts} entries need a person: see /continuity/reconcile/ on the "
            "main system."
        )
    if summary.lost == 0:
        try:
            result = follow_once()
            stdout.write(f"Following again: {result.changes} changes in {result.seconds:.1f} s.")
        except FollowError as exc:
            stdout.write(f"Following again from the next run ({exc}).")
    stdout.write(summary.line)
    if summary.lost:
        raise CommandError(f"{summary.lost} entries have no outcome yet: run it again.")
