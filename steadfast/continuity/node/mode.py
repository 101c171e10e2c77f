"""Node mode (STEADFAST_NODE=1): the practice copy's pages are read-only, and each says how
fresh the copy is.

Signing in (password, second factor) and out still work: they write only the node's own
sessions and audit trail. Everything else that would change the record is refused with a page
saying to use the main system, which is the only source of truth while it is up.
"""

from django.conf import settings
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import timezone

from steadfast.continuity.node.queries import follower_state
from steadfast.fhir.errors import outcome_response

READ_ONLY = "This is the practice copy: it cannot change the record. Use the main system."
SIGNING_IN = frozenset({"accounts:login", "accounts:logout", "accounts:second_factor"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _may_write(request) -> bool:
    try:
        return resolve(request.path_info).view_name in SIGNING_IN
    except Resolver404:
        return False


class ReadOnlyNodeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.NODE_MODE and request.method not in SAFE_METHODS and not _may_write(request):
            if request.path_info.startswith("/fhir/"):
                return outcome_response(403, READ_ONLY, "forbidden")
            return render(
                request,
                "node/read_only.jinja",
                {"page_title": "Practice copy: read only", "message": READ_ONLY},
                status=403,
            )
        return self.get_response(request)


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
    state = follower_state()
    if state is None or state.caught_up_at is None:
        return "Practice copy — not yet updated. Use the main system while it is up."
    age = _ago((timezone.now() - state.caught_up_at).total_seconds())
    return f"Practice copy — updated {age} ago. Use the main system while it is up."
