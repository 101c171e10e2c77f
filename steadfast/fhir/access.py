"""The API's gate: the same activity table, practice scope and audit as the web pages."""

from collections.abc import Callable
from functools import wraps

from django_scopes import scope

from steadfast.accounts.access import ACTIVITIES, can
from steadfast.audit import services as audit
from steadfast.audit.models import Outcome
from steadfast.audit.record_access import needs_break_glass
from steadfast.fhir.errors import FHIRError


def requires(activity: str) -> Callable:
    """Endpoint decorator: 403 unless the token's user may do `activity`; then run the endpoint
    inside their practice's scope, so another practice's rows are simply not there (404)."""
    if activity not in ACTIVITIES:
        raise ValueError(f"unknown activity {activity!r}")

    def decorator(endpoint: Callable) -> Callable:
        @wraps(endpoint)
        def wrapped(request, *args, **kwargs):
            if not can(request.user, activity):
                raise FHIRError(403, f"Your role may not {activity.replace('_', ' ')}.")
            with scope(practice=[request.user.practice_id]):
                return endpoint(request, *args, **kwargs)

        wrapped.activity = activity
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
        )
    audit.record(action, user=user, patient_id=patient.pk, read_only=True)
