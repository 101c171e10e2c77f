"""The one gate every screen passes before showing a patient's record or demographics, and
the audit of requests refused.

It asks for a break-glass reason when a sensitive record is opened with no care relationship,
and writes exactly one audit entry for the view.
"""

import uuid
from collections.abc import Iterable
from urllib.parse import urlencode

from django.db import transaction
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


def break_glass_first(request, patient, action: str, next_url: str = "") -> HttpResponse | None:
    """Where to go instead when the user must give a break-glass reason before this patient's
    record (audited as refused); None when they may go ahead. `next_url`: where to come back
    to (the request's own URL by default). An htmx request is sent there with HX-Redirect."""
    if not needs_break_glass(request.user, patient):
        return None
    services.record(
        action,
        user=request.user,
        patient_id=patient.pk,
        outcome=Outcome.DENIED,
        detail="sensitive record: break-glass reason asked",
        read_only=True,
    )
    query = urlencode({"next": next_url or request.get_full_path()})
    target = f"{reverse('audit:break_glass', args=[patient.pk])}?{query}"
    if request.headers.get("HX-Request"):
        response = HttpResponse()
        response["HX-Redirect"] = target
        return response
    return redirect(target)


def open_patient_record(request, patient, action: str) -> HttpResponse | None:
    """None when the view may go ahead (and has been audited); otherwise where to go instead."""
    if elsewhere := break_glass_first(request, patient, action):
        return elsewhere
    services.record(action, user=request.user, patient_id=patient.pk, read_only=True)
    return None


IDS_PER_ENTRY = 5  # 5 ids of 32 hex digits, and the count, fit the 200-character detail


def record_search(user, action: str, patient_ids: Iterable, where: str = "") -> None:
    """Audit a search with the ids of the patients it showed (ids only, never names nor the
    words searched for): five ids to an entry, one entry when it found nobody. A search that
    showed one patient names them as the entry's patient, so it is in their access log."""
    ids = [uuid.UUID(str(i)).hex for i in patient_ids]
    chunks = [ids[i : i + IDS_PER_ENTRY] for i in range(0, len(ids), IDS_PER_ENTRY)] or [[]]
    only = uuid.UUID(ids[0]) if len(ids) == 1 else None
    with transaction.atomic():
        for n, chunk in enumerate(chunks, 1):
            part = f" {n}/{len(chunks)}" if len(chunks) > 1 else ""
            services.record(
                action,
                user=user,
                patient_id=only,
                detail=f"{len(ids)} shown{where}{part}: {' '.join(chunk)}".rstrip(": "),
                read_only=True,
            )
