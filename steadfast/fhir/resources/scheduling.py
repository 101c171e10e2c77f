"""Schedule (one per clinician, its actor the Practitioner) and Slot, honouring embargoes.

A slot is `free` only when it could be booked now: free in the book, not over, and released
from any embargo. Booked slots are `busy`; blocked, embargoed or past ones `busy-unavailable`.
"""

from django.db.models import Q, QuerySet
from django.utils import timezone
from ninja import Router

from steadfast.appointments.models import Slot, SlotStatus
from steadfast.appointments.queries import bookable
from steadfast.fhir.access import requires
from steadfast.fhir.bundles import searchset
from steadfast.fhir.capabilities import RESOURCES, search_openapi
from steadfast.fhir.errors import FHIRError
from steadfast.fhir.http import fhir_response
from steadfast.fhir.lookups import one_or_404
from steadfast.fhir.resources.practitioner import clinician_id, clinicians
from steadfast.fhir.search import (
    check_parameters,
    date_filter,
    includes,
    paging,
)

router = Router(tags=["Scheduling"])


def schedule(clinician) -> dict:
    return {
        "resourceType": "Schedule",
        "id": str(clinician.pk),
        "active": clinician.is_active,
        "actor": [{"reference": f"Practitioner/{clinician.pk}", "display": clinician.display_name}],
    }


def slot_status(slot: Slot, now) -> str:
    if slot.status == SlotStatus.BOOKED:
        return "busy"
    if slot.status == SlotStatus.FREE and slot.end > now and not slot.is_embargoed(now):
        return "free"
    return "busy-unavailable"


def slot(s: Slot, now) -> dict:
    return {
        "resourceType": "Slot",
        "id": str(s.pk),
        "schedule": {"reference": f"Schedule/{s.clinician_id}"},
        "status": slot_status(s, now),
        "start": s.start.isoformat(),
        "end": s.end.isoformat(),
        "serviceType": [{"coding": [{"code": s.slot_type}], "text": s.get_slot_type_display()}],
        "comment": s.get_delivery_mode_display(),
    }


def _status_filter(value: str, now) -> Q:
    if value == "free":
        return bookable(now)
    if value == "busy":
        return Q(status=SlotStatus.BOOKED)
    if value == "busy-unavailable":
        return ~Q(status=SlotStatus.BOOKED) & ~bookable(now)
    raise FHIRError(400, "status must be free, busy or busy-unavailable.")


@router.get("/Schedule/{resource_id}", url_name="schedule_read")
@requires("view_appointment_book")
def read_schedule(request, resource_id: str):
    clinician = one_or_404(clinicians(request.user.practice_id), "Schedule", resource_id)
    return fhir_response(schedule(clinician))


@router.get("/Schedule", url_name="schedule_search", openapi_extra=search_openapi("Schedule"))
@requires("view_appointment_book")
def search_schedules(request):
    check_parameters(request, RESOURCES["Schedule"].parameters)
    page = paging(request)
    found = clinicians(request.user.practice_id).order_by("last_name", "first_name", "pk")
    for actor in request.GET.getlist("actor"):
        found = found.filter(pk=clinician_id(actor, "Practitioner"))
    matches = [schedule(u) for u in found[page.offset : page.offset + page.count]]
    return fhir_response(searchset(request, found.count(), matches, page))


@router.get("/Slot/{resource_id}", url_name="slot_read")
@requires("view_appointment_book")
def read_slot(request, resource_id: str):
    found = one_or_404(
        Slot.objects.filter(practice_id=request.user.practice_id), "Slot", resource_id
    )
    return fhir_response(slot(found, timezone.now()))


def _slots(request, now) -> QuerySet[Slot]:
    found = Slot.objects.filter(practice_id=request.user.practice_id)
    for value in request.GET.getlist("status"):
        found = found.filter(_status_filter(value, now))
    for value in request.GET.getlist("schedule"):
        found = found.filter(clinician_id=clinician_id(value, "Schedule"))
    for value in request.GET.getlist("service-type"):
        found = found.filter(slot_type__in=value.rpartition("|")[2].split(","))
    for value in request.GET.getlist("delivery-channel"):
        found = found.filter(delivery_mode__in=value.replace("-", "_").split(","))
    return found.filter(date_filter(request, "start", "start")).order_by("start", "clinician_id")


@router.get("/Slot", url_name="slot_search", openapi_extra=search_openapi("Slot"))
@requires("view_appointment_book")
def search_slots(request):
    capability = RESOURCES["Slot"]
    check_parameters(request, capability.parameters)
    wanted = includes(request, set(capability.includes))
    page = paging(request)
    now = timezone.now()
    found = _slots(request, now)
    rows = list(found[page.offset : page.offset + page.count])
    included = []
    if "Slot:schedule" in wanted:
        ids = {s.clinician_id for s in rows}
        included = [schedule(u) for u in clinicians(request.user.practice_id).filter(pk__in=ids)]
    matches = [slot(s, now) for s in rows]
    return fhir_response(searchset(request, found.count(), matches, page, included))
