"""Error pages in the service's own look."""

import sys
import uuid

from django.shortcuts import render

from steadfast.audit.record_access import record_refusal
from steadfast.errors import NotPermitted
from steadfast.switchover import is_database_unavailable, switching_over


def forbidden(request, exception=None):
    """A refused request: the 403 page, and an audit entry (outcome denied) naming who tried."""
    activity = getattr(exception, "activity", "") or (str(exception) if exception else "")
    record_refusal(
        request.user,
        activity=activity,
        patient_id=getattr(exception, "patient_id", None) or _patient_in_path(request),
        where=f"{request.method} {request.path}",
    )
    reason = str(exception) if isinstance(exception, NotPermitted) else ""
    return render(
        request, "errors/403.jinja", {"page_title": "No access", "reason": reason}, status=403
    )


def _patient_in_path(request) -> uuid.UUID | None:
    """The patient a refused page was about, when its URL names one."""
    kwargs = request.resolver_match.kwargs if request.resolver_match else {}
    try:
        return uuid.UUID(str(kwargs["patient_id"]))
    except (KeyError, ValueError):
        return None


def not_found(request, exception=None):
    return render(request, "errors/404.jinja", {"page_title": "Page not found"}, status=404)


def server_error(request):
    """Django calls this inside the `except` of whatever failed; a lost database connection is
    a failover in progress, not a fault: answer 503 "switching over" instead."""
    if is_database_unavailable(sys.exception()):
        return switching_over(request)
    return render(request, "errors/500.jinja", {"page_title": "Something went wrong"}, status=500)
