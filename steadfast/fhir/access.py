"""The API's gate: the same activity table, practice scope and audit as the web pages.

`@requires` refuses early; the services each endpoint calls decide again (`require` in
steadfast/accounts/access.py), so an entry the route lets through is still checked."""

from collections.abc import Callable
from functools import wraps

from django_scopes import scope

from steadfast.accounts.access import ACTIVITIES, can
from steadfast.audit import services as audit
from steadfast.audit.models import Outcome
from steadfast.audit.queries import needs_break_glass
from steadfast.fhir.errors import FHIRError


def requires(*activities: str) -> Callable:
    """Endpoint decorator: 403 unless the token's user may do one of `activities`; then run the
    endpoint inside their practice's scope, so another practice's rows are simply not there
    (404). Several activities: an operation (a transaction Bundle) whose entries each need
    their own, which the services check entry by entry."""
    if not activities or any(a not in ACTIVITIES for a in activities):
        raise ValueError(f"unknown activity in {activities!r}")

    def decorator(endpoint: Callable) -> Callable:
        @wraps(endpoint)
        def wrapped(request, *args, **kwargs):
            if not any(can(request.user, a) for a in activities):
                named = " or ".join(a.replace("_", " ") for a in activities)
                raise FHIRError(403, f"Your role may not {named}.", activity=activities[0])
            with scope(practice=[request.user.practice_id]):
                return endpoint(request, *args, **kwargs)

        wrapped.activities = activities
        return wrapped

    return decorator


def open_patient_record(user, patient, action: str) -> None:
    """Audit one read of a patient; a sensitive record with no care relationship is refused
    (the API has no break-glass page to ask for a reason, so the web page must be used)."""
    if needs_break_glass(user, patient):
        audit.record(
            action,
            user=user,
            patient_id=patient.pk,
            outcome=Outcome.DENIED,
            detail="sensitive record: refused through the API",
            read_only=True,
        )
        raise FHIRError(
            403,
            "This record is restricted. Open it in Steadfast and give a reason (break-glass).",
            audited=True,
        )
    audit.record(action, user=user, patient_id=patient.pk, read_only=True)
