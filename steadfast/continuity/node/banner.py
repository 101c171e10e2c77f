"""The line every page of a practice node shows: how fresh the copy is."""

from django.conf import settings
from django.utils import timezone

from steadfast.continuity.downtime.journal import open_session
from steadfast.continuity.node.queries import follower_state


def _ago(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def practice_copy_banner() -> str:
    """The line every page of a node shows; empty on the central server."""
    if not settings.NODE_MODE:
        return ""
    session = open_session()
    if session is not None:
        since = timezone.localtime(session.started_at)
        return (
            f"Downtime working since {since:%H:%M} — entries will be sent to the main system "
            "when it is back."
        )
    state = follower_state()
    if state is None or state.caught_up_at is None:
        return "Practice copy — not yet updated. Use the main system while it is up."
    age = _ago((timezone.now() - state.caught_up_at).total_seconds())
    return f"Practice copy — updated {age} ago. Use the main system while it is up."
