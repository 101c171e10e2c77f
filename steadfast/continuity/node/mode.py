"""Node mode (STEADFAST_NODE=1): the practice copy's pages are read-only, and each says how
fresh the copy is.

Signing in (password, second factor) and out still work, and so does noting that the downtime
pack was opened offline: they write only the node's own sessions and audit trail. Everything
else that would change the record is refused with a page saying to use the main system, which
is the only source of truth while it is up.
"""

from django.conf import settings
from django.shortcuts import render
from django.urls import Resolver404, resolve

from steadfast.continuity.downtime.journal import open_session
from steadfast.fhir.errors import outcome_response

READ_ONLY = "This is the practice copy: it cannot change the record. Use the main system."
# What writes only the node's own sessions and audit trail: signing in and out, and noting that
# the downtime pack was opened offline.
SIGNING_IN = frozenset(
    {"accounts:login", "accounts:logout", "accounts:second_factor", "continuity:record_opens"}
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Switching downtime working on and off, and reconciling (each checks its own rules).
NODE_CONTROLS = frozenset({"downtime:node", "downtime:node_reconcile"})
# What a node takes in downtime working: each through a journalled service.
DOWNTIME_WRITES = frozenset(
    {
        "appointments:book",
        "appointments:cancel",
        "appointments:reschedule",
        "appointments:status",
        "patients:register",
        "records:consult",
        "records:start_consultation",
        "records:prescribe",
        "records:medicine_check",
        "records:allergies",
    }
)


def _may_write(request) -> bool:
    try:
        view_name = resolve(request.path_info).view_name
    except Resolver404:
        return False
    if view_name in SIGNING_IN or view_name in NODE_CONTROLS:
        return True
    return view_name in DOWNTIME_WRITES and open_session() is not None


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
