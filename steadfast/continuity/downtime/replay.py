"""On the central server: a node's downtime entry applied once, as its real author, through the
same services as any other write.

The entry's UUID is the key of a conditional create: an entry received before is answered from
the ledger (ReceivedEntry) and changes nothing. Updates are checked against the version the node
saw (If-Match): a record changed on the main system meanwhile is a conflict. Whatever no longer
fits (the slot taken, the patient deducted or died, a possible match for a temporary patient, a
code not held, a rule the author may not pass here) becomes a conflict with a plain reason, for a
person on the worklist. Nothing is forced and nothing is dropped.
"""

import contextlib
import inspect
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from steadfast.appointments import services as appointments
from steadfast.appointments.models import Appointment, AppointmentStatus, Slot, booking_key
from steadfast.audit import services as audit
from steadfast.audit.origin import current_source
from steadfast.continuity.downtime.journal import CLINICAL_ACTIONS
from steadfast.continuity.downtime.models import EntryStatus, NodeObject, ReceivedEntry
from steadfast.entry_times import local
from steadfast.errors import DomainError, NotPermitted, SlotUnavailable
from steadfast.patients import services as patients
from steadfast.patients.models import Patient, RegistrationStatus
from steadfast.patients.queries import patient_with_nhs_number, possible_duplicates
from steadfast.records import services as records
from steadfast.records.models import Concept

DOWNTIME_SYSTEM = "urn:steadfast:downtime"
ENDED = {
    RegistrationStatus.DEDUCTED: "was deducted",
    RegistrationStatus.DECEASED: "died",
}


class Conflict(DomainError):
    """The entry no longer fits the main system: a person decides."""

    def __init__(self, kind: str, reason: str, *, http: int = 409) -> None:
        super().__init__(reason)
        self.kind = kind
        self.http = http


# Conflicts a person may accept as they are: the services check every rule again then.
SAFE_TO_ACCEPT = frozenset({"changed", "may_match", "depends"})
HTTP_STATUS = {"changed": 412, "unknown_code": 422, "invalid": 422, "refused": 403}


@dataclass(frozen=True)
class Incoming:
    """One journal entry as the node sent it."""

    uuid: UUID
    seq: int
    action: str
    author_id: int
    occurred_at: datetime
    data: dict
    bases: dict
    made: dict


def _when(text: str) -> str:
    return local(datetime.fromisoformat(text))


# --- finding what an entry names -------------------------------------------------------------


def central_id(entry: ReceivedEntry, node_id: str | None) -> UUID | None:
    """The central id of a row the entry names: a row the node made in downtime maps to what it
    became here; a row the node had copied has the same id on both."""
    if node_id is None:
        return None
    made = NodeObject.objects.filter(node_id=UUID(node_id)).select_related("entry").first()
    if made is None:
        return UUID(node_id)
    if made.central_id is None:
        raise Conflict(
            "depends",
            f"It depends on another downtime entry ({describe(made.entry)}) that is on the "
            "worklist: resolve that one first, then accept this one.",
        )
    return made.central_id


def _patient(entry: ReceivedEntry, node_id: str) -> Patient:
    patient = Patient.objects.filter(
        pk=central_id(entry, node_id), practice_id=entry.practice_id
    ).first()
    if patient is None:
        raise Conflict("gone", "The patient is not on the main system.")
    return _still_registered(entry, patient)


def _still_registered(entry: ReceivedEntry, patient: Patient) -> Patient:
    entry.patient = patient
    if patient.registration_status in ENDED:
        on = patient.registration_ended_on
        when = f" on {on:%d %b %Y}" if on else ""
        raise Conflict(
            "patient_ended",
            f"{patient.listing_name} {ENDED[patient.registration_status]}{when} "
            "(recorded on the main system).",
        )
    return patient


def _appointment(entry: ReceivedEntry, node_id: str, force: bool) -> Appointment:
    found = (
        Appointment.objects.filter(pk=central_id(entry, node_id), practice_id=entry.practice_id)
        .select_related("patient", "slot", "slot__clinician")
        .first()
    )
    if found is None:
        raise Conflict("gone", "The appointment is not on the main system.")
    _still_registered(entry, found.patient)
    seen = entry.bases.get("appointment")
    if not force and seen is not None and found.version != seen:
        raise Conflict(
            "changed",
            f"The appointment was changed on the main system meanwhile: it is now "
            f"{found.get_status_display().lower()}, at {found.slot.start:%H:%M} with "
            f"{found.slot.clinician.display_name} (version {found.version}; the node saw "
            f"version {seen}).",
            http=412,
        )
    return found


def _concept(value: dict | None) -> Concept | None:
    if not value:
        return None
    found = Concept.objects.filter(system=value["system"], code=value["code"]).first()
    if found is None:
        raise Conflict(
            "unknown_code",
            f"The code {value['code']} ({value.get('term', '')}) is not held on the main system.",
            http=422,
        )
    return found


def slot_taken_reason(slot_id) -> str:
    slot = Slot.objects.filter(pk=slot_id).select_related("clinician").first()
    if slot is None:
        return "The slot is no longer on the main system."
    taken = (
        Appointment.objects.filter(slot=slot)
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("patient", "booked_by")
        .first()
    )
    start = timezone.localtime(slot.start)
    what = f"The slot at {start:%H:%M on %d %b %Y} with {slot.clinician.display_name}"
    if taken is None:
        return f"{what} could not be booked on the main system (closed or not yet released)."
    by = f" by {taken.booked_by.display_name}" if taken.booked_by else ""
    at = timezone.localtime(taken.booked_at).strftime("%H:%M on %d %b %Y")
    return (
        f"{what} was booked on the main system meanwhile, for {taken.patient.listing_name}"
        f"{by} at {at}."
    )


# --- each action --------------------------------------------------------------------------------


def _via(service, entry: ReceivedEntry, extra: str = "") -> dict:
    """Where the entry was made, for the record, where the service keeps it."""
    text = f"node {entry.node_name} during downtime{extra}"[:100]
    return {"entered_via": text} if "entered_via" in inspect.signature(service).parameters else {}


def _book(entry: ReceivedEntry, force: bool) -> dict:
    d = entry.data
    patient = _patient(entry, d["patient"])
    slot_id = UUID(d["slot"])
    try:
        made = appointments.book_appointment(
            slot_id,
            patient,
            entry.author,
            reason=d.get("reason", ""),
            idempotency_key=booking_key(entry.pk, DOWNTIME_SYSTEM),
            occurred_at=entry.occurred_at,
            **_via(appointments.book_appointment, entry),
        )
    except SlotUnavailable:
        raise Conflict("slot_taken", slot_taken_reason(slot_id)) from None
    return {"appointment": made.pk}


def _cancel(entry: ReceivedEntry, force: bool) -> dict:
    d = entry.data
    appt = _appointment(entry, d["appointment"], force)
    appointments.cancel_appointment(appt, d["cancelled_by"], d.get("reason", ""), entry.author)
    return {}


def _move(entry: ReceivedEntry, force: bool) -> dict:
    d = entry.data
    appt = _appointment(entry, d["appointment"], force)
    try:
        appointments.reschedule_appointment(appt, UUID(d["slot"]), entry.author)
    except SlotUnavailable:
        raise Conflict("slot_taken", slot_taken_reason(d["slot"])) from None
    return {}


def _status(entry: ReceivedEntry, force: bool) -> dict:
    d = entry.data
    appt = _appointment(entry, d["appointment"], force)
    service = appointments.change_status
    service(
        appt, d["to_status"], entry.author, occurred_at=entry.occurred_at, **_via(service, entry)
    )
    return {}


def _amend(entry: ReceivedEntry, force: bool) -> dict:
    d = entry.data
    appt = _appointment(entry, d["appointment"], force)
    appointments.amend_appointment(appt, entry.author, reason=d["reason"], comment=d["comment"])
    return {}


def _details(raw: dict) -> dict:
    details = dict(raw)
    for name in ("date_of_birth", "registered_on"):
        if details.get(name):
            details[name] = date.fromisoformat(details[name])
    if details.get("usual_gp"):
        details["usual_gp"] = get_user_model().objects.filter(pk=details["usual_gp"]).first()
    details["registration_status"] = RegistrationStatus.TEMPORARY
    return details


def _register(entry: ReceivedEntry, force: bool) -> dict:
    details = _details(entry.data["details"])
    practice = entry.practice
    same_number = details.get("nhs_number") and patient_with_nhs_number(
        practice, details["nhs_number"]
    )
    matches = [same_number] if same_number else []
    if not force:
        matches += possible_duplicates(
            practice, details["given_name"], details["family_name"], details["date_of_birth"]
        )
    if matches:
        names = "; ".join(
            f"{p.listing_name}, born {p.date_of_birth:%d %b %Y}"
            + (f", NHS number {p.nhs_number}" if p.nhs_number else "")
            for p in matches
        )
        raise Conflict(
            "may_match" if not same_number else "same_nhs_number",
            f"This temporary patient may be a patient already on the main system: {names}.",
        )
    patient = patients.register_patient(
        practice, details, entry.author, confirmed_not_duplicate=True
    )
    entry.patient = patient
    return {"patient": patient.pk}


def _note(raw: dict) -> records.ConsultationNote:
    return records.ConsultationNote(
        consultation_type=raw["consultation_type"],
        history=raw.get("history", ""),
        examination=raw.get("examination", ""),
        plan=raw.get("plan", ""),
        problems=[_problem(p) for p in raw.get("problems", [])],
        observations=[_observation(o) for o in raw.get("observations", [])],
        medications=[_medication(m) for m in raw.get("medications", [])],
    )


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _problem(raw: dict) -> records.NewProblem:
    return records.NewProblem(
        _concept(raw["concept"]), raw["significance"], _day(raw.get("onset")), raw["status"]
    )


def _observation(raw: dict) -> records.NewObservation:
    value, value2 = raw.get("value"), raw.get("value2")
    return records.NewObservation(
        raw["kind"],
        Decimal(value) if value not in (None, "") else value,
        Decimal(value2) if value2 not in (None, "") else value2,
        raw.get("smoking", ""),
    )


def _medication(raw: dict) -> records.NewMedication:
    return records.NewMedication(
        _concept(raw["concept"]),
        raw["kind"],
        raw["dose"],
        raw["quantity"],
        raw.get("quantity_unit", "tablet"),
        raw.get("issues_allowed"),
        _day(raw.get("review_date")),
    )


PAPER = ", medicines issued on paper"


def _consult(entry: ReceivedEntry, force: bool) -> dict:
    d = entry.data
    patient = _patient(entry, d["patient"])
    appt = _appointment(entry, d["appointment"], force) if d.get("appointment") else None
    note = _note(d["note"])
    service = records.save_consultation
    consultation = service(
        patient,
        entry.author,
        note,
        appointment=appt,
        occurred_at=entry.occurred_at,
        allergy_confirmed=d.get("allergy_confirmed", False),
        override_reason=d.get("override_reason", ""),
        **_via(service, entry, PAPER if note.medications else ""),
    )
    return {"consultation": consultation.pk}


def _record(service, entry: ReceivedEntry, *args, extra: str = "", **kwargs) -> dict:
    patient = _patient(entry, entry.data["patient"])
    service(
        patient,
        entry.author,
        *args,
        occurred_at=entry.occurred_at,
        **kwargs,
        **_via(service, entry, extra),
    )
    return {}


def _add_problem(entry: ReceivedEntry, force: bool) -> dict:
    return _record(records.add_problem, entry, _problem(entry.data["problem"]))


def _observe(entry: ReceivedEntry, force: bool) -> dict:
    return _record(records.record_observation, entry, _observation(entry.data["observation"]))


def _prescribe(entry: ReceivedEntry, force: bool) -> dict:
    d = entry.data
    return _record(
        records.prescribe,
        entry,
        _medication(d["medication"]),
        allergy_confirmed=d.get("allergy_confirmed", False),
        override_reason=d.get("override_reason", ""),
        extra=PAPER,
    )


def _allergy(entry: ReceivedEntry, force: bool) -> dict:
    d = entry.data
    return _record(
        records.record_allergy,
        entry,
        _concept(d["substance"]),
        reaction=_concept(d.get("reaction")),
        reaction_text=d.get("reaction_text", ""),
        severity=d["severity"],
        certainty=d["certainty"],
        note=d.get("note", ""),
    )


def _no_known_allergies(entry: ReceivedEntry, force: bool) -> dict:
    return _record(
        records.record_no_known_allergies, entry, concept=_concept(entry.data.get("concept"))
    )


REPLAY = {
    "book_appointment": _book,
    "cancel_appointment": _cancel,
    "reschedule_appointment": _move,
    "change_status": _status,
    "amend_appointment": _amend,
    "register_patient": _register,
    "save_consultation": _consult,
    "add_problem": _add_problem,
    "record_observation": _observe,
    "prescribe": _prescribe,
    "record_allergy": _allergy,
    "record_no_known_allergies": _no_known_allergies,
}
ACTION_NAMES = {
    "book_appointment": "Booking",
    "cancel_appointment": "Cancellation",
    "reschedule_appointment": "Move to another slot",
    "change_status": "Appointment status",
    "amend_appointment": "Appointment details",
    "register_patient": "Temporary patient",
    "save_consultation": "Consultation",
    "add_problem": "Problem",
    "record_observation": "Observation",
    "prescribe": "Medicine issued on paper",
    "record_allergy": "Allergy",
    "record_no_known_allergies": "No known allergies",
}


def describe(entry: ReceivedEntry) -> str:
    when = local(entry.occurred_at)
    return f"{ACTION_NAMES.get(entry.action, entry.action)}, {when} on node {entry.node_name}"


# --- receiving ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _from_node(name: str):
    token = current_source.set(f"node {name} (downtime)"[:45])
    try:
        yield
    finally:
        current_source.reset(token)


def apply(entry: ReceivedEntry, *, force: bool = False, by=None) -> dict:
    """Make the entry's change now, or say on the entry why not (not saved: the caller saves
    it). `force`: a person accepted it as it is (the services' own rules still apply). Returns
    the central ids of what it made, by kind. In the caller's transaction; a refused change
    leaves nothing behind."""
    made = {}
    try:
        with transaction.atomic(), _from_node(entry.node_name):
            made = REPLAY[entry.action](entry, force)
    except Conflict as conflict:
        entry.status, entry.conflict = EntryStatus.CONFLICT, conflict.kind
        entry.reason = str(conflict)
    except NotPermitted as refused:
        entry.status, entry.conflict = EntryStatus.CONFLICT, "refused"
        entry.reason = f"{entry.author.display_name} may not do this on the main system: {refused}"
    except DomainError as invalid:
        entry.status, entry.conflict, entry.reason = EntryStatus.CONFLICT, "invalid", str(invalid)
    else:
        entry.status = EntryStatus.RESOLVED if by is not None else EntryStatus.MERGED
        entry.conflict = entry.conflict if by is not None else ""
    if entry.status == EntryStatus.CONFLICT:
        # A merged entry is on the audit trail as its services' own entries (source: the node);
        # one that went to the worklist is here, as its author's, with the node's time.
        happened = entry.occurred_at.astimezone(UTC).isoformat(timespec="seconds")
        audit.record(
            "downtime_entry_conflict",
            user=entry.author,
            patient_id=entry.patient_id,
            practice_id=entry.practice_id,
            detail=f"{entry.action} entry {entry.pk} from node {entry.node_name}: "
            f"{entry.conflict}; happened {happened} (node clock)",
        )
    return made


def map_made(entry: ReceivedEntry, made: dict) -> None:
    """Note which central rows the entry's node rows became."""
    for kind, central in made.items():
        node_id = entry.made.get(kind)
        if node_id is not None:
            NodeObject.objects.filter(node_id=node_id).update(central_id=central)


def http_status(entry: ReceivedEntry, created: bool) -> int:
    if entry.status in (EntryStatus.MERGED, EntryStatus.RESOLVED):
        return 201 if created else 200
    return HTTP_STATUS.get(entry.conflict, 409)


class Receiver:
    """One node's batch: entries received before are answered from the ledger (one query for
    the batch), new ones applied in order. Call inside one transaction; `lock()` first, so one
    node's reconciles never run side by side."""

    def __init__(self, node, uuids: list[UUID]) -> None:
        self.node = node
        self.known = {e.pk: e for e in ReceivedEntry.objects.filter(pk__in=uuids)}
        self.authors: dict[int, object] = {}

    @staticmethod
    def lock(node) -> None:
        from steadfast.continuity.node.models import NodeToken

        NodeToken.objects.select_for_update().filter(pk=node.token.pk).exists()

    def _author(self, author_id: int):
        if author_id not in self.authors:
            self.authors[author_id] = (
                get_user_model()
                .objects.filter(pk=author_id, practice_id=self.node.practice_id)
                .first()
            )
        return self.authors[author_id]

    def receive(self, incoming: Incoming) -> tuple[ReceivedEntry, bool]:
        """(the entry, whether it was new)."""
        existing = self.known.get(incoming.uuid)
        if existing is not None:
            if existing.practice_id != self.node.practice_id:
                raise NotPermitted("That entry belongs to another practice.")
            return existing, False
        author = self._author(incoming.author_id)
        if author is None:
            raise NotPermitted("The entry's author is not a member of this practice's staff.")
        entry = ReceivedEntry(
            id=incoming.uuid,
            practice_id=self.node.practice_id,
            node_name=self.node.token.name,
            seq=incoming.seq,
            action=incoming.action,
            data=incoming.data,
            bases=incoming.bases,
            made=incoming.made,
            author=author,
            occurred_at=incoming.occurred_at,
            clinical=incoming.action in CLINICAL_ACTIONS,
            status=EntryStatus.CONFLICT,
        )
        made = apply(entry)
        entry.save(force_insert=True)
        NodeObject.objects.bulk_create(
            NodeObject(
                node_id=UUID(node_id),
                practice_id=entry.practice_id,
                kind=kind,
                entry=entry,
                central_id=made.get(kind),
            )
            for kind, node_id in incoming.made.items()
        )
        self.known[entry.pk] = entry
        return entry, True
