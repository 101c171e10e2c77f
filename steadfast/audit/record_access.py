"""The one gate every screen passes before showing a patient's record or demographics, and
the audit of requests refused.

It asks for a break-glass reason when a sensitive record is opened with no care relationship,
and writes exactly one audit entry for the view.
"""

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from steadfast.audit import services
from steadfast.audit.models import Outcome
from steadfast.audit.queries import needs_break_glass


def record_refusal(user, *, activity: str = "", patient_id=None, where: str = "") -> None:
    """Put a refused request on the trail (outcome denied), so a practice manager sees who
    tried what. `where` is the method and path: ids only, never a query string (it may hold
    a name someone searched for)."""
    services.record(
        "refused",
        user=user,
        patient_id=patient_id,
        outcome=Outcome.DENIED,
        detail=f"{activity}: {where}" if activity else where,
        read_only=True,
    )


def open_patient_record(request, patient, action: str) -> HttpResponse | None:
    """None when the view may go ahead (and has been audited); otherwise where to go instead."""
    if needs_break_glass(request.user, patient):
        services.record(
            action,
            user=request.user,
            patient_id=patient.pk,
            outcome=Outcome.DENIED,
            detail="sensitive record: break-glass reason asked",
            read_only=True,
        )
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('audit:break_glass', args=[patient.pk])}?{query}")
    services.record(action, user=request.user, patient_id=patient.pk, read_only=True)
    return None
