"""Each resource type of the `_history` feed both ways: the rows a change names, written as the
API writes them plus the stored-fields extension, and read back into a model's fields.

`write` is what the central server serves; `read` is what a practice node applies. The round
trip is exact for every field except those in `LOCAL_FIELDS`, which each installation keeps for
itself (tests/fhir/test_history_round_trip.py checks every type).
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import models
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
    flag,
    immunization,
    medication_request,
    no_known_allergy,
    observation,
)
from steadfast.fhir.resources.scheduling import schedule, slot
from steadfast.fhir.stored import STORED_FIELDS, read_stored, stored_extension, with_stored
from steadfast.patients.models import Patient
from steadfast.practices.models import Practice
from steadfast.records.models import (
    Allergy,
    Consultation,
    ConsultationVersion,
    Document,
    Immunisation,
    Medication,
    MedicationIssue,
    NoKnownAllergies,
    Observation,
    PatientFlag,
    Problem,
)

EXTENSIONS = "https://fhir.steadfast.example/StructureDefinition"
APPOINTMENT_EVENT = f"{EXTENSIONS}/appointment-event"
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
class Carried:
    """Rows of a child table that travel inside their parent's resource, an extension each (its
    stored fields): an appointment's status events, a repeat's issues, a consultation's earlier
    versions, a problem's links to consultations. A follower keeps exactly the set that came."""

    url: str
    model: type[models.Model]
    parent: str  # the child's foreign key to the parent row
    fields: tuple[str, ...]  # the child's own id among them
    order: tuple[str, ...] = ("id",)

    @property
    def parent_attname(self) -> str:
        return self.model._meta.get_field(self.parent).attname

    def of(self, parent_ids: list) -> dict[Any, list]:
        """The children of each parent, in order: one query for a page of parents."""
        found = defaultdict(list)
        children = self.model._base_manager.filter(**{f"{self.parent}__in": parent_ids})
        for child in children.order_by(*self.order):
            found[getattr(child, self.parent_attname)].append(child)
        return found

    def extensions(self, children: list) -> list[dict]:
        return [{**stored_extension(child, self.fields), "url": self.url} for child in children]

    def read(self, resource: dict, concept_for) -> list[dict]:
        """Each child's fields by attname (the parent's id is the caller's to add)."""
        return [
            read_stored(
                {"extension": [{**e, "url": STORED_FIELDS}]}, self.model, self.fields, concept_for
            )
            for e in resource.get("extension", [])
            if e.get("url") == self.url
        ]


@dataclass(frozen=True)
class Replicated:
    """How the rows behind one change-log resource type go out and come back."""

    resource_type: str  # as in the change log (the first resource written)
    model: type[models.Model]
    build: Callable[[Any, Any], list[dict]]  # row, request -> resources (empty: none to send)
    parse: Callable[[dict], dict]  # the first resource -> the model's fields, by attname
    stored: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    carries: tuple[Carried, ...] = ()
    practice_field: str = "practice_id"
    # A second table served as the same resource type, and how to tell its resources apart.
    also: "Replicated | None" = None
    claims: Callable[[dict], bool] = lambda resource: True

    def kinds(self) -> list["Replicated"]:
        return [self, self.also] if self.also else [self]

    def kind_for(self, resource: dict) -> "Replicated":
        """Which table a resource of this type is a row of."""
        return self.also if self.also and self.also.claims(resource) else self

    def rows(self, practice_id, ids: list) -> list[models.Model]:
        """The rows the ids name (in any of the type's tables), each with its carried children."""
        found = []
        for kind in self.kinds():
            rows = list(
                kind.model._base_manager.filter(
                    **{kind.practice_field: practice_id}, pk__in=ids
                ).select_related(*kind.related)
            )
            for carried in kind.carries:
                children = carried.of([row.pk for row in rows])
                for row in rows:
                    row.__dict__.setdefault("_carried", {})[carried.url] = children[row.pk]
            found += rows
        return found

    def key(self, resource_id: str):
        """The primary key a change-log id names (UUIDs may be stored with or without dashes)."""
        pk = self.model._meta.pk
        return UUID(resource_id) if isinstance(pk, models.UUIDField) else pk.to_python(resource_id)

    def write(self, row, request) -> list[dict]:
        kind = next(k for k in self.kinds() if isinstance(row, k.model))
        resources = kind.build(row, request)
        if resources and kind.stored:
            with_stored(resources[0], row, kind.stored)
        if resources:
            carried_rows = row.__dict__.get("_carried", {})
            for carried in kind.carries:
                children = carried_rows.get(carried.url)
                if children is None:  # a row not read through rows()
                    children = carried.of([row.pk])[row.pk]
                extension = [*(resources[0].get("extension") or []), *carried.extensions(children)]
                resources[0]["extension"] = extension
        return resources

    def read(self, resource: dict, concept_for) -> dict:
        """The model's fields (by attname) from the resource; the practice is the caller's.
        (For a type served from two tables, read with `kind_for(resource)`.)"""
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


def _build_appointment(a: Appointment, request) -> list[dict]:
    return [appointment_resource(a)]


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


STATUS_EVENTS = Carried(
    APPOINTMENT_EVENT, AppointmentEvent, "appointment", EVENT_FIELDS, ("occurred_at", "id")
)


def appointment_events(resource: dict, concept_for) -> list[dict]:
    """The appointment's status history, each event's fields by attname."""
    return STATUS_EVENTS.read(resource, concept_for)


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


def _parse_no_known_allergies(r: dict) -> dict:
    return {
        "id": UUID(r["id"]),
        **_patient(r, "patient"),
        "recorded_at": instant(r["recordedDate"]),
        "recorded_by_id": _staff_id(r.get("recorder")),
    }


def _is_no_known_allergies(r: dict) -> bool:
    """An allergy's stored fields always name its substance; a "no known allergies" statement
    has none."""
    stored = first(r.get("extension"), lambda e: e.get("url") == STORED_FIELDS)
    return not any(sub.get("url") == "substance" for sub in stored.get("extension", []))


def _parse_flag(r: dict) -> dict:
    return _entry_basics({**r, "start": r["period"]["start"]}, "subject", "start", r["author"]) | {
        "ended_at": instant(r["period"].get("end")),
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
ISSUES = Carried(
    f"{EXTENSIONS}/medication-issue",
    MedicationIssue,
    "medication",
    (
        "id",
        "patient",
        "occurred_at",
        "recorded_at",
        "recorded_by",
        "retrospective",
        "as_received",
        "entered_via",
        "number",
        "quantity",
    ),
    ("number",),
)
EARLIER_VERSIONS = Carried(
    f"{EXTENSIONS}/consultation-version",
    ConsultationVersion,
    "consultation",
    (
        "id",
        "version",
        "consultation_type",
        "history",
        "examination",
        "plan",
        "written_by",
        "written_at",
        "replaced_by",
        "replaced_at",
        "reason",
    ),
    ("version",),
)
CONSULTATION_LINKS = Carried(
    f"{EXTENSIONS}/problem-consultation",
    Problem.consultations.through,
    "problem",
    ("id", "consultation"),
)

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
            carries=(STATUS_EVENTS,),
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
            carries=(EARLIER_VERSIONS,),
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
            carries=(CONSULTATION_LINKS,),
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
            also=Replicated(
                "AllergyIntolerance",
                NoKnownAllergies,
                _one(no_known_allergy),
                _parse_no_known_allergies,
                stored=("occurred_at", "retrospective", "as_received", "entered_via", "concept"),
                related=("concept",),
                claims=_is_no_known_allergies,
            ),
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
            carries=(ISSUES,),
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
        Replicated(
            "Flag",
            PatientFlag,
            _one(flag),
            _parse_flag,
            stored=(*ENTRY_STORED, "concept", "note"),
            related=("concept",),
        ),
    )
}
