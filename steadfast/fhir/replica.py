"""Each resource type of the `_history` feed both ways: the rows a change names, written as the
API writes them plus the stored-fields extension, and read back into a model's fields.

`write` is what the central server serves; `read` is what a practice node applies. The round
trip is exact for every field except those in `LOCAL_FIELDS`, which each installation keeps for
itself (tests/fhir/test_history_round_trip.py checks every type).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from steadfast.accounts.models import CLINICAL_ROLES
from steadfast.appointments.models import Appointment, AppointmentEvent, Slot
from steadfast.fhir.capabilities import NHS_NUMBER, ODS_CODE
from steadfast.fhir.resources.appointment import FHIR_STATUS
from steadfast.fhir.resources.appointment import appointment as appointment_resource
from steadfast.fhir.resources.organization import location, organization
from steadfast.fhir.resources.patient import patient as patient_resource
from steadfast.fhir.resources.practitioner import practitioner, practitioner_role
from steadfast.fhir.resources.record import (
    allergy_intolerance,
    condition,
    document_reference,
    encounter,
    immunization,
    medication_request,
    observation,
)
from steadfast.fhir.resources.scheduling import schedule, slot
from steadfast.fhir.stored import STORED_FIELDS, read_stored, stored_extension, with_stored
from steadfast.patients.models import Patient
from steadfast.practices.models import Practice
from steadfast.records.models import (
    Allergy,
    Consultation,
    Document,
    Immunisation,
    Medication,
    Observation,
    Problem,
)

APPOINTMENT_EVENT = "https://fhir.steadfast.example/StructureDefinition/appointment-event"
EVENT_FIELDS = (
    "id",
    "from_status",
    "to_status",
    "actor",
    "occurred_at",
    "recorded_at",
    "note",
    "back_entered",
    "entered_via",
)
# Kept by each installation for itself, never sent: search keys derived from the names, the
# rota template a slot came from (rotas are not served by the API), and a booking's idempotency
# key (it de-duplicates retries where the booking was made).
LOCAL_FIELDS = {
    Patient: {"given_name_key", "family_name_key", "postcode_key"},
    Slot: {"session_template"},
    Appointment: {"idempotency_key"},
}
APPOINTMENT_STATUS = {fhir: ours for ours, fhir in FHIR_STATUS.items()}


# --- reading standard elements ----------------------------------------------------------------


def ref(value: dict | None, resource_type: str) -> str | None:
    """The id in {"reference": "Type/id"}, or None."""
    reference = (value or {}).get("reference", "")
    prefix = f"{resource_type}/"
    return reference.rpartition(prefix)[2] if prefix in reference else None


def instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def day(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def first(items: list | None, test: Callable[[dict], bool] = lambda _: True) -> dict:
    return next((i for i in items or [] if test(i)), {})


def _patient(r: dict, element: str = "subject") -> dict:
    return {"patient_id": UUID(ref(r[element], "Patient"))}


def _staff_id(value: dict | None) -> int | None:
    found = ref(value, "Practitioner")
    return int(found) if found else None


# --- the types ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replicated:
    """How the rows behind one change-log resource type go out and come back."""

    resource_type: str  # as in the change log (the first resource written)
    model: type[models.Model]
    build: Callable[[Any, Any], list[dict]]  # row, request -> resources (empty: none to send)
    parse: Callable[[dict], dict]  # the first resource -> the model's fields, by attname
    stored: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    prefetch: tuple = ()
    practice_field: str = "practice_id"

    def rows(self, practice_id, ids: list) -> QuerySet:
        found = self.model._base_manager.filter(**{self.practice_field: practice_id}, pk__in=ids)
        return found.select_related(*self.related).prefetch_related(*self.prefetch)

    def key(self, resource_id: str):
        """The primary key a change-log id names (UUIDs may be stored with or without dashes)."""
        pk = self.model._meta.pk
        return UUID(resource_id) if isinstance(pk, models.UUIDField) else pk.to_python(resource_id)

    def write(self, row, request) -> list[dict]:
        resources = self.build(row, request)
        if resources and self.stored:
            with_stored(resources[0], row, self.stored)
        return resources

    def read(self, resource: dict, concept_for) -> dict:
        """The model's fields (by attname) from the resource; the practice is the caller's."""
        values = self.parse(resource)
        values |= read_stored(resource, self.model, self.stored, concept_for)
        return values


def _build_practice(p: Practice, request) -> list[dict]:
    return [organization(p), location(p)]


def _parse_practice(r: dict) -> dict:
    address = first(r.get("address"))
    lines = address.get("line", [])
    return {
        "id": UUID(r["id"]),
        "name": r["name"],
        "ods_code": first(r.get("identifier"), lambda i: i.get("system") == ODS_CODE)["value"],
        "address_line1": lines[0] if lines else "",
        "address_line2": ", ".join(lines[1:]),
        "town": address.get("city", ""),
        "postcode": address.get("postalCode", ""),
        "phone": first(r.get("telecom"), lambda t: t.get("system") == "phone").get("value", ""),
    }


def _build_staff(user, request) -> list[dict]:
    """Clinicians as Practitioner, PractitionerRole and Schedule; other staff have no FHIR form
    (a practice node takes every account from its staff endpoint instead)."""
    if user.role not in CLINICAL_ROLES:
        return []
    return [practitioner(user), practitioner_role(user), schedule(user)]


def _build_patient(p: Patient, request) -> list[dict]:
    return [patient_resource(p)]


def _parse_patient(r: dict) -> dict:
    name = first(r.get("name"), lambda n: n.get("use") == "official") or first(r.get("name"))
    address = first(r.get("address"), lambda a: a.get("use") == "home") or first(r.get("address"))
    lines = address.get("line", [])
    telecom = r.get("telecom")
    nhs = first(r.get("identifier"), lambda i: i.get("system") == NHS_NUMBER)
    gp = first(r.get("generalPractitioner"), lambda g: ref(g, "Practitioner") is not None)
    return {
        "id": UUID(r["id"]),
        "nhs_number": nhs.get("value"),
        "title": (name.get("prefix") or [""])[0],
        "given_name": " ".join(name.get("given", [])),
        "family_name": name.get("family", ""),
        "date_of_birth": day(r["birthDate"]),
        "sex": r["gender"],
        "address_line1": lines[0] if lines else "",
        "address_line2": ", ".join(lines[1:]),
        "town": address.get("city", ""),
        "postcode": address.get("postalCode", ""),
        "phone": first(telecom, lambda t: t.get("system") == "phone").get("value", ""),
        "email": first(telecom, lambda t: t.get("system") == "email").get("value", ""),
        "usual_gp_id": _staff_id(gp) if gp else None,
        "updated_at": instant(r["meta"]["lastUpdated"]),
    }


def _build_slot(s: Slot, request) -> list[dict]:
    return [slot(s, getattr(request, "history_now", None) or timezone.now())]


def _parse_slot(r: dict) -> dict:
    return {
        "id": UUID(r["id"]),
        "clinician_id": int(ref(r["schedule"], "Schedule")),
        "start": instant(r["start"]),
        "end": instant(r["end"]),
        "slot_type": first(r["serviceType"])["coding"][0]["code"],
    }


def _event_extension(e: AppointmentEvent) -> dict:
    return {**stored_extension(e, EVENT_FIELDS), "url": APPOINTMENT_EVENT}


def _build_appointment(a: Appointment, request) -> list[dict]:
    resource = appointment_resource(a)
    events = [_event_extension(e) for e in a.events.all()]
    resource["extension"] = [*(resource.get("extension") or []), *events]
    return [resource]


def _parse_appointment(r: dict) -> dict:
    patient = first(r["participant"], lambda p: ref(p.get("actor"), "Patient") is not None)
    return {
        "id": UUID(r["id"]),
        "slot_id": UUID(ref(first(r["slot"]), "Slot")),
        "patient_id": UUID(ref(patient["actor"], "Patient")),
        "status": APPOINTMENT_STATUS[r["status"]],
        "reason": r.get("description", ""),
        "comment": r.get("comment", ""),
        "booked_at": instant(r["created"]),
        "version": int(r["meta"]["versionId"]),
    }


def appointment_events(resource: dict, concept_for) -> list[dict]:
    """The appointment's status history, each event's fields by attname."""
    return [
        read_stored(
            {"extension": [{**e, "url": STORED_FIELDS}]},
            AppointmentEvent,
            EVENT_FIELDS,
            concept_for,
        )
        for e in resource.get("extension", [])
        if e.get("url") == APPOINTMENT_EVENT
    ]


def _entry_basics(r: dict, subject: str, occurred: str, recorder: dict | None) -> dict:
    return {
        "id": UUID(r["id"]),
        **_patient(r, subject),
        "occurred_at": instant(r[occurred]),
        "recorded_by_id": _staff_id(recorder),
    }


def _encounter_id(r: dict, element: str) -> UUID | None:
    found = ref(r.get(element), "Encounter")
    return UUID(found) if found else None


def _parse_encounter(r: dict) -> dict:
    individual = first(r.get("participant")).get("individual")
    basics = _entry_basics({**r, "start": r["period"]["start"]}, "subject", "start", individual)
    appointment_id = ref(first(r.get("appointment")), "Appointment")
    return basics | {
        "appointment_id": UUID(appointment_id) if appointment_id else None,
        "version": int(r["meta"]["versionId"]),
    }


def _parse_condition(r: dict) -> dict:
    return {
        "id": UUID(r["id"]),
        **_patient(r),
        "recorded_at": instant(r["recordedDate"]),
        "recorded_by_id": _staff_id(r.get("recorder")),
        "onset": day(r["onsetDateTime"]),
        "ended": day(r.get("abatementDateTime")),
    }


def _parse_allergy(r: dict) -> dict:
    return _entry_basics(r, "patient", "onsetDateTime", r.get("recorder")) | {
        "recorded_at": instant(r["recordedDate"]),
    }


def _parse_medication(r: dict) -> dict:
    return _entry_basics(r, "subject", "authoredOn", r.get("requester")) | {
        "consultation_id": _encounter_id(r, "encounter"),
    }


def _parse_observation(r: dict) -> dict:
    return _entry_basics(r, "subject", "effectiveDateTime", first(r.get("performer"))) | {
        "consultation_id": _encounter_id(r, "encounter"),
        "recorded_at": instant(r["issued"]),
    }


def _parse_immunization(r: dict) -> dict:
    performer = first(r.get("performer")).get("actor")
    return _entry_basics(r, "patient", "occurrenceDateTime", performer) | {
        "consultation_id": _encounter_id(r, "encounter"),
        "recorded_at": instant(r["recorded"]),
        "retrospective": not r["primarySource"],
        "batch": r["lotNumber"],
        "dose_number": first(r.get("protocolApplied"))["doseNumberPositiveInt"],
    }


def _parse_document(r: dict) -> dict:
    attachment = first(r["content"])["attachment"]
    return {
        "id": UUID(r["id"]),
        **_patient(r),
        "recorded_at": instant(r["date"]),
        "recorded_by_id": _staff_id(first(r.get("author"))),
        "occurred_at": instant(attachment["creation"]),
        "title": attachment["title"],
        "content_type": attachment["contentType"],
        "size": attachment["size"],
    }


def _one(builder: Callable) -> Callable:
    return lambda row, request: [builder(row, request)]


ENTRY_STORED = ("recorded_at", "retrospective", "as_received", "entered_via")

REPLICATED: dict[str, Replicated] = {
    r.resource_type: r
    for r in (
        Replicated(
            "Organization",
            Practice,
            _build_practice,
            _parse_practice,
            stored=("is_demo",),
            practice_field="pk",
        ),
        Replicated("Practitioner", get_user_model(), _build_staff, lambda r: {}),
        Replicated(
            "Patient",
            Patient,
            _build_patient,
            _parse_patient,
            stored=(
                "registration_status",
                "registered_on",
                "is_sensitive",
                "recorded_at",
                "uk_core",
                "registration_ended_on",
                "registration_end_reason",
            ),
        ),
        Replicated(
            "Slot",
            Slot,
            _build_slot,
            _parse_slot,
            stored=(
                "delivery_mode",
                "reserved_for",
                "embargoed_until",
                "status",
                "national_category",
            ),
        ),
        Replicated(
            "Appointment",
            Appointment,
            _build_appointment,
            _parse_appointment,
            stored=(
                "booked_by",
                "recorded_at",
                "status_changed_at",
                "cancelled_by",
                "cancellation_reason",
            ),
            related=("slot", "slot__clinician"),
            prefetch=(Prefetch("events", AppointmentEvent.objects.order_by("occurred_at", "id")),),
        ),
        Replicated(
            "Encounter",
            Consultation,
            _one(encounter),
            _parse_encounter,
            stored=(
                *ENTRY_STORED,
                "consultation_type",
                "history",
                "examination",
                "plan",
                "edited_by",
                "edited_at",
            ),
        ),
        Replicated(
            "Condition",
            Problem,
            _one(condition),
            _parse_condition,
            stored=(
                "occurred_at",
                "retrospective",
                "as_received",
                "entered_via",
                "concept",
                "status",
                "significance",
            ),
            related=("concept",),
        ),
        Replicated(
            "AllergyIntolerance",
            Allergy,
            _one(allergy_intolerance),
            _parse_allergy,
            stored=(
                "retrospective",
                "as_received",
                "entered_via",
                "substance",
                "reaction",
                "reaction_text",
                "severity",
                "certainty",
                "note",
            ),
            related=("substance", "reaction"),
        ),
        Replicated(
            "MedicationRequest",
            Medication,
            _one(medication_request),
            _parse_medication,
            stored=(
                *ENTRY_STORED,
                "concept",
                "kind",
                "dose",
                "quantity",
                "quantity_unit",
                "route",
                "issues_allowed",
                "issues_made",
                "review_date",
                "stopped_at",
                "stopped_by",
                "stop_reason",
                "allergy_override",
            ),
            related=("concept",),
        ),
        Replicated(
            "Observation",
            Observation,
            _one(observation),
            _parse_observation,
            stored=(
                "retrospective",
                "as_received",
                "entered_via",
                "kind",
                "concept",
                "value",
                "value2",
                "unit",
                "derived",
            ),
            related=("concept",),
        ),
        Replicated(
            "Immunization",
            Immunisation,
            _one(immunization),
            _parse_immunization,
            stored=("vaccine", "as_received", "entered_via"),
            related=("vaccine",),
        ),
        Replicated(
            "DocumentReference",
            Document,
            _one(document_reference),
            _parse_document,
            stored=("retrospective", "as_received", "entered_via", "kind", "sha256", "content"),
        ),
    )
}
