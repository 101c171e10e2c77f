"""Appointment: book into a Slot, read, search, cancel or amend, GP Connect style.

Booking and cancelling go through appointments/services.py, so the database still decides who
wins a slot; versions (ETag / If-Match) stop two systems overwriting each other's changes.
A booking retried after a timeout or a failover is made once: the client names it with an
`Idempotency-Key` header or a conditional create (`If-None-Exist: identifier=<system>|<value>`),
and the retry gets the first booking back (200) instead of a second one.
"""

import re
import uuid
from urllib.parse import unquote

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import QuerySet
from fhir.resources.R4B.appointment import Appointment as FHIRAppointment
from ninja import Router

from steadfast.appointments import services
from steadfast.appointments.models import (
    Appointment,
    AppointmentStatus,
    CancelledBy,
    Slot,
    booking_key,
)
from steadfast.appointments.queries import slot_and_patient
from steadfast.audit.record_access import record_search
from steadfast.fhir.access import open_patient_record, requires
from steadfast.fhir.body import read_resource
from steadfast.fhir.bundles import base_url, searchset
from steadfast.fhir.capabilities import RESOURCES, body_openapi, search_openapi
from steadfast.fhir.errors import FHIRError
from steadfast.fhir.http import fhir_response
from steadfast.fhir.lookups import one_or_404, one_or_422
from steadfast.fhir.resources.patient import patient_listing
from steadfast.fhir.search import check_parameters, date_filter, includes, paging, reference_id
from steadfast.patients.models import Patient

router = Router(tags=["Appointment"])
S = AppointmentStatus
FHIR_STATUS = {
    S.BOOKED: "booked",
    S.ARRIVED: "arrived",
    S.IN_PROGRESS: "checked-in",
    S.FINISHED: "fulfilled",
    S.DID_NOT_ATTEND: "noshow",
    S.CANCELLED: "cancelled",
}
CANCELLATION_REASONS = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
_WEAK_ETAG = re.compile(r'^(W/)?"(\d+)"$')


def appointment(a: Appointment) -> dict:
    slot = a.slot
    cancelled = a.status == S.CANCELLED
    return {
        "resourceType": "Appointment",
        "id": str(a.pk),
        "meta": {"versionId": str(a.version)},
        "identifier": _identifiers(a),
        "status": FHIR_STATUS[a.status],
        "cancelationReason": {"text": a.cancellation_reason or "Cancelled"} if cancelled else None,
        "description": a.reason,
        "comment": a.comment,
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "minutesDuration": int((slot.end - slot.start).total_seconds() // 60),
        "slot": [{"reference": f"Slot/{slot.pk}"}],
        "created": a.booked_at.isoformat(),
        "participant": [
            {"actor": {"reference": f"Patient/{a.patient_id}"}, "status": "accepted"},
            {
                "actor": {
                    "reference": f"Practitioner/{slot.clinician_id}",
                    "display": slot.clinician.display_name,
                },
                "status": "accepted",
            },
        ],
    }


def _identifiers(a: Appointment) -> list[dict] | None:
    if not a.idempotency_key:
        return None
    system, _, value = a.idempotency_key.partition("|")
    return [{"system": system, "value": value}]


def _answer(request, a: Appointment, status: int = 200):
    headers = {"ETag": f'W/"{a.version}"'}
    if status == 201:
        headers["Location"] = f"{base_url(request)}/Appointment/{a.pk}/_history/{a.version}"
    return fhir_response(appointment(a), status=status, headers=headers)


def _appointments(request) -> QuerySet[Appointment]:
    return Appointment.objects.filter(practice_id=request.user.practice_id).select_related(
        "slot", "slot__clinician"
    )


def _reload(request, appointment_id) -> Appointment:
    return _appointments(request).get(pk=appointment_id)


@router.get("/Appointment/{resource_id}", url_name="appointment_read")
@requires("view_appointment_book")
def read_appointment(request, resource_id: str):
    found = one_or_404(_appointments(request).select_related("patient"), "Appointment", resource_id)
    open_patient_record(request.user, found.patient, "view_appointment")
    return _answer(request, found)


@router.get(
    "/Appointment", url_name="appointment_search", openapi_extra=search_openapi("Appointment")
)
@requires("view_appointment_book")
def search_appointments(request):
    capability = RESOURCES["Appointment"]
    check_parameters(request, capability.parameters)
    wanted = includes(request, set(capability.includes))
    page = paging(request)
    found = _appointments(request).filter(date_filter(request, "date", "slot__start"))
    patients = Patient.objects.filter(practice_id=request.user.practice_id)
    for value in request.GET.getlist("patient"):
        who = _patient_or_none(patients, reference_id(value, "Patient"))
        if who is None:
            found = found.none()
            continue
        open_patient_record(request.user, who, "view_patient_appointments")
        found = found.filter(patient=who)
    found = found.order_by("slot__start", "pk")
    rows = list(found[page.offset : page.offset + page.count])
    shown = sorted({a.patient_id for a in rows}, key=str)
    if not request.GET.getlist("patient"):  # a search by patient has audited opening them
        record_search(request.user, "search_appointments", shown, " (API)")
    included = []
    if "Appointment:patient" in wanted:
        included = [patient_listing(p) for p in patients.filter(pk__in=shown)]
    matches = [appointment(a) for a in rows]
    return fhir_response(searchset(request, found.count(), matches, page, included))


def _patient_or_none(patients: QuerySet[Patient], patient_id: str) -> Patient | None:
    try:
        return patients.get(pk=patient_id)
    except (ObjectDoesNotExist, ValidationError, ValueError):
        return None


def _one_reference(references, resource_type: str) -> str:
    found = [r.reference for r in references if r.reference and f"{resource_type}/" in r.reference]
    if len(found) != 1:
        raise FHIRError(422, f"The Appointment must reference exactly one {resource_type}.")
    return reference_id(found[0], resource_type)


@router.post(
    "/Appointment", url_name="appointment_create", openapi_extra=body_openapi("Appointment")
)
@requires("book_appointments")
def book_appointment(request):
    _, resource = read_resource(request, FHIRAppointment)
    if resource.status not in ("booked", "proposed", "pending"):
        raise FHIRError(422, "A new Appointment must have status booked.")
    slot_id = _one_reference(resource.slot or [], "Slot")
    actors = [p.actor for p in resource.participant if p.actor]
    patient_id = _one_reference(actors, "Patient")
    slot, who = _slot_and_patient(request.user.practice_id, slot_id, patient_id)
    # The service refuses (and audits refusing) a restricted record; the booking's own audit
    # entry names the patient, so the request is audited once.
    booked = services.book_appointment(
        slot.pk,
        who,
        request.user,
        reason=resource.description or "",
        idempotency_key=_idempotency_key(request),
        slot_as_read=slot,
    )
    if booked.replayed:
        return _answer(request, _reload(request, booked.pk), status=200)
    if resource.comment:
        booked = services.amend_appointment(
            booked, request.user, reason=booked.reason, comment=resource.comment
        )
    if booked.slot_id == slot.pk:  # the rows in hand, not read back
        booked.slot, booked.patient = slot, who
    return _answer(request, booked, status=201)


def _slot_and_patient(practice_id, slot_id: str, patient_id: str) -> tuple[Slot, Patient]:
    """Both references, read in one query; 422 naming the one that is not the practice's."""
    try:
        slot, who = slot_and_patient(practice_id, uuid.UUID(slot_id), uuid.UUID(patient_id))
    except ValueError:
        slot = who = None
    if slot is None:
        slots = Slot.objects.filter(practice_id=practice_id).select_related("clinician")
        slot = one_or_422(slots, "Slot", slot_id)
    if who is None:
        who = one_or_422(Patient.objects.filter(practice_id=practice_id), "Patient", patient_id)
    return slot, who


def _idempotency_key(request) -> str | None:
    """The booking's key, `system|value`, from Idempotency-Key or If-None-Exist (or None)."""
    keys = set()
    if (header := request.headers.get("Idempotency-Key")) is not None:
        value = header.strip()
        if not 0 < len(value) <= 200:
            raise FHIRError(400, "Idempotency-Key must be 1 to 200 characters.")
        keys.add(booking_key(value))
    if (condition := request.headers.get("If-None-Exist")) is not None:
        name, _, token = condition.strip().partition("=")
        system, bar, value = unquote(token).partition("|")
        if name != "identifier" or not (system and bar and value) or len(token) > 300:
            raise FHIRError(400, "If-None-Exist must be identifier=<system>|<value>.")
        keys.add(booking_key(value, system))
    if len(keys) > 1:
        raise FHIRError(400, "Idempotency-Key and If-None-Exist name different bookings.")
    return keys.pop() if keys else None


def _if_match(request) -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    match = _WEAK_ETAG.match(header.strip())
    if not match:
        raise FHIRError(400, 'If-Match must be an ETag like W/"3".')
    return int(match.group(2))


def _cancellation(resource: FHIRAppointment) -> tuple[str, str]:
    reason = resource.cancelationReason
    if reason is None:
        raise FHIRError(422, "Cancelling needs a cancelationReason.")
    codes = [c.code for c in reason.coding or [] if c.code]
    text = reason.text or next((c.display for c in reason.coding or [] if c.display), None)
    by_patient = any(code.startswith("pat") for code in codes)
    cancelled_by = CancelledBy.PATIENT if by_patient else CancelledBy.PRACTICE
    return cancelled_by, text or (codes[0] if codes else "Cancelled")


@router.put(
    "/Appointment/{resource_id}",
    url_name="appointment_update",
    openapi_extra=body_openapi("Appointment"),
)
@requires("book_appointments")
def update_appointment(request, resource_id: str):
    current = one_or_404(_appointments(request), "Appointment", resource_id)
    _, resource = read_resource(request, FHIRAppointment)
    if resource.id != resource_id:
        raise FHIRError(400, "The Appointment's id must match the URL.")
    version = _if_match(request)
    if _one_reference(resource.slot or [], "Slot") != str(current.slot_id):
        raise FHIRError(422, "Moving an appointment to another slot is not supported by PUT.")
    actors = [p.actor for p in resource.participant if p.actor]
    if _one_reference(actors, "Patient") != str(current.patient_id):
        raise FHIRError(422, "An appointment's patient cannot be changed.")

    reason, comment = resource.description or "", resource.comment or ""
    if (reason, comment) != (current.reason, current.comment):
        current = services.amend_appointment(
            current, request.user, reason=reason, comment=comment, if_version=version
        )
        version = None if version is None else current.version
    if resource.status == "cancelled" and current.status != S.CANCELLED:
        cancelled_by, why = _cancellation(resource)
        current = services.cancel_appointment(
            current, cancelled_by, why, request.user, if_version=version
        )
    elif resource.status != FHIR_STATUS[current.status]:
        raise FHIRError(422, "Through the API an appointment can only be cancelled or amended.")
    elif version is not None and version != current.version:
        raise FHIRError(412, "The appointment has changed since you read it.", "conflict")
    return _answer(request, _reload(request, current.pk))
