"""`steadfast node init|follow|status`: run this installation as a practice node.

Needs STEADFAST_NODE=1, and STEADFAST_VAR_DIR naming the node's own directory (made 0700; put
it on an encrypted disk). The node keeps its copy in SQLite there.
"""

import os
import signal
from datetime import datetime

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from steadfast import jobs
from steadfast.continuity import services as packs
from steadfast.continuity.downtime.commands import (
    DOWNTIME_ACTIONS,
    add_downtime_commands,
    run_downtime_command,
)
from steadfast.continuity.node.follow import FollowError, follow_once
from steadfast.continuity.node.models import FollowerState
from steadfast.continuity.node.pack import fetch_latest_pack
from steadfast.continuity.node.queries import follower_state


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%d %b %Y %H:%M:%S") if value else "never"


class Command(BaseCommand):
    help = "Practice node: init (first copy), follow (keep it current), status."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(
            dest="action", required=True, metavar="init|follow|status|downtime|reconcile"
        )
        init = commands.add_parser("init", help="create the node's database and take the copy")
        init.add_argument("--upstream", required=True, help="the central server, https://...")
        init.add_argument("--token", required=True, help="from `steadfast continuity node-token`")
        follow = commands.add_parser("follow", help="apply the central server's changes")
        follow.add_argument("--once", action="store_true", help="one pass, then stop")
        commands.add_parser("status", help="upstream, last change applied, lag, last error")
        add_downtime_commands(commands)

    def handle(self, *args, action, **options):
        if not settings.NODE_MODE:
            raise CommandError("This is not a practice node: set STEADFAST_NODE=1 (see docs).")
        if connection.vendor != "sqlite":
            raise CommandError("A practice node keeps its copy in SQLite: unset DATABASE_URL.")
        if action in DOWNTIME_ACTIONS:
            run_downtime_command(action, options, self.stdout)
            return
        getattr(self, f"_{action}")(**options)

    def _init(self, upstream: str, token: str, **options):
        var = settings.VAR_DIR
        var.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(var, 0o700)  # patient data and credential hashes: the node's user only
        call_command("migrate", interactive=False, verbosity=0)
        if FollowerState.objects.exists():
            raise CommandError("This node is set up already: run `steadfast node follow`.")
        state = FollowerState.objects.create(upstream=upstream.rstrip("/"), token=token.strip())
        try:
            result = follow_once(state)
        except FollowError as exc:
            raise CommandError(
                f"The first copy failed: {exc}. Run `steadfast node follow`."
            ) from exc
        state.refresh_from_db()
        self.stdout.write(
            f"Copied {state.practice} in {result.seconds:.1f} s: {result.changes} changes, "
            f"{result.staff or 0} staff accounts, into {var} (keep it on an encrypted disk)."
        )
        self._copy_pack(state)

    def _copy_pack(self, state: FollowerState) -> None:
        try:
            fetched = fetch_latest_pack(state)
        except FollowError as exc:
            raise CommandError(f"The latest downtime pack was not copied: {exc}") from exc
        if fetched.pack is None:
            self.stdout.write("Downtime pack: the central server has not made one yet.")
        else:
            self.stdout.write(f"Downtime pack: {fetched.pack.name}{' (new)' * fetched.new}")

    def _follow(self, once: bool, **options):
        state = follower_state()
        if state is None:
            raise CommandError("Run `steadfast node init --upstream URL --token TOKEN` first.")
        if once:
            try:
                result = follow_once(state)
            except FollowError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"{result.changes} changes in {result.seconds:.2f} s")
            self._copy_pack(state)
            return
        # Following for ever is the worker's node-follow and node-pack jobs, on one scheduler.
        scheduler = jobs.scheduler([jobs.NODE_FOLLOW, jobs.NODE_PACK])
        signal.signal(signal.SIGTERM, lambda signum, frame: scheduler.shutdown(wait=False))
        signal.signal(signal.SIGINT, lambda signum, frame: scheduler.shutdown(wait=False))
        self.stdout.write(
            f"Following {state.upstream} every {settings.NODE_FOLLOW_SECONDS:g} s. Ctrl-C to stop."
        )
        self.stdout.flush()
        scheduler.start()

    def _status(self, **options):
        state = follower_state()
        if state is None:
            raise CommandError("This node is not set up: run `steadfast node init`.")
        lag = (
            f"{(timezone.now() - state.caught_up_at).total_seconds():.0f}"
            if state.caught_up_at
            else "unknown"
        )
        last_change = state.last_change or "none yet"
        pack = packs.latest_pack(state.practice) if state.practice else None
        self.stdout.write(
            "\n".join(
                [
                    f"upstream: {state.upstream}",
                    f"practice: {state.practice or 'not copied yet'}",
                    f"changes applied: {state.changes_applied}",
                    f"last change applied: {last_change} (changed {_when(state.last_change_at)})",
                    f"caught up at: {_when(state.caught_up_at)}",
                    f"lag_s: {lag}",
                    f"downtime pack: {pack.name if pack else 'none yet'}"
                    + (f" (made {_when(pack.made_at)})" if pack else ""),
                    f"last error: {state.last_error or 'none'}"
                    + (f" ({_when(state.last_error_at)})" if state.last_error else ""),
                ]
            )
        )
