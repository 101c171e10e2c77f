"""The one gate every screen passes before showing a patient's record or demographics.

It asks for a break-glass reason when a sensitive record is opened with no care relationship,
and writes exactly one audit entry for the view.
"""

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from steadfast.audit import services
from steadfast.audit.models import Outcome
from steadfast.audit.queries import has_care_relationship, has_current_break_glass


def needs_break_glass(user, patient) -> bool:
    return (
        patient.is_sensitive
        and not has_care_relationship(user, patient)
        and not has_current_break_glass(user, patient)
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
