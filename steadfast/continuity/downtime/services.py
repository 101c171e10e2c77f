"""Downtime working (on a node) and the worklist's actions (on the central server).

Every worklist action is a person's decision, recorded with their name and kept: an entry is
never deleted, and one set aside stays visible on the patient's record with its reason.
"""

from django.db import transaction
from django.utils import timezone

from steadfast.accounts.access import CLINICAL, require
from steadfast.appointments import services as appointments
from steadfast.appointments.models import booking_key
from steadfast.audit import services as audit
from steadfast.continuity.downtime.journal import open_session
from steadfast.continuity.downtime.models import (
    DowntimeSession,
    EntryStatus,
    NodeObject,
    ReceivedEntry,
)
from steadfast.continuity.downtime.replay import (
    DOWNTIME_SYSTEM,
    SAFE_TO_ACCEPT,
    apply,
    central_id,
    map_made,
)
from steadfast.errors import DomainError, NotPermitted
from steadfast.patients.models import Patient

# --- on a node --------------------------------------------------------------------------------


def start_downtime(by=None) -> DowntimeSession:
    """Switch the node to downtime working (`by` None: the command line)."""
    if by is not None:
        require(by, "start_downtime_working", practice_id=by.practice_id)
    with transaction.atomic():
        session = open_session()
        if session is None:
            session = DowntimeSession.objects.create(started_at=timezone.now(), started_by=by)
            audit.record("downtime_started", user=by, detail=f"downtime session {session.pk}")
    return session


def stop_downtime(by=None) -> DowntimeSession | None:
    """Stop taking writes; the journal waits for `steadfast node reconcile`."""
    if by is not None:
        require(by, "start_downtime_working", practice_id=by.practice_id)
    with transaction.atomic():
        session = open_session()
        if session is not None:
            session.ended_at = timezone.now()
            session.save(update_fields=["ended_at"])
            audit.record("downtime_stopped", user=by, detail=f"downtime session {session.pk}")
    return session


# --- on the central server: the worklist ------------------------------------------------------


def may_resolve(user, entry: ReceivedEntry) -> bool:
    """Practice managers resolve the appointment book and registrations; clinicians resolve
    clinical entries."""
    return entry.clinical == (user.role in CLINICAL)


def may_accept(entry: ReceivedEntry) -> bool:
    """Whether "accept as it was made" is offered: only where the services' own rules, checked
    again, decide (changed meanwhile, a possible match, waiting on another entry)."""
    return entry.conflict in SAFE_TO_ACCEPT


def _open(entry: ReceivedEntry, by) -> ReceivedEntry:
    require(by, "resolve_downtime_entries", practice_id=entry.practice_id)
    if not may_resolve(by, entry):
        raise NotPermitted(
            "Clinical entries are resolved by a clinician."
            if entry.clinical
            else "Appointment and registration entries are resolved by a practice manager."
        )
    locked = ReceivedEntry.objects.select_for_update().select_related("author", "practice")
    locked = locked.get(pk=entry.pk)
    if locked.status != EntryStatus.CONFLICT:
        raise DomainError("Someone has already dealt with this entry.")
    return locked


def _resolved(entry: ReceivedEntry, by, status: str, resolution: str) -> ReceivedEntry:
    entry.status = status
    entry.resolution = resolution
    entry.resolved_by = by
    entry.resolved_at = timezone.now()
    entry.save()
    audit.record(
        "resolve_downtime_entry",
        user=by,
        patient_id=entry.patient_id,
        detail=f"entry {entry.pk} from node {entry.node_name}: {status}",
    )
    return entry


def book_elsewhere(entry: ReceivedEntry, slot_id, by) -> ReceivedEntry:
    """A downtime booking whose slot was taken: book the patient into another slot."""
    with transaction.atomic():
        entry = _open(entry, by)
        if entry.action != "book_appointment":
            raise DomainError("Only a booking can be booked into another slot.")
        patient = Patient.objects.get(pk=central_id(entry, entry.data["patient"]))
        appt = appointments.book_appointment(
            slot_id,
            patient,
            by,
            reason=entry.data.get("reason", ""),
            idempotency_key=booking_key(entry.pk, DOWNTIME_SYSTEM),
        )
        NodeObject.objects.filter(entry=entry, kind="appointment").update(central_id=appt.pk)
        entry.patient = patient
        start = timezone.localtime(appt.slot.start)
        return _resolved(
            entry,
            by,
            EntryStatus.RESOLVED,
            f"Booked into {start:%H:%M on %d %b %Y} with {appt.slot.clinician.display_name} "
            f"by {by.display_name}.",
        )


def link_patient(entry: ReceivedEntry, patient: Patient, by) -> ReceivedEntry:
    """A temporary patient registered in downtime is this registered patient."""
    with transaction.atomic():
        entry = _open(entry, by)
        if entry.action != "register_patient":
            raise DomainError("Only a temporary patient can be linked to a registered one.")
        if patient.practice_id != entry.practice_id:
            raise NotPermitted("This patient is not registered at your practice.")
        NodeObject.objects.filter(entry=entry, kind="patient").update(central_id=patient.pk)
        entry.patient = patient
        return _resolved(
            entry,
            by,
            EntryStatus.RESOLVED,
            f"Linked to {patient.listing_name} (born {patient.date_of_birth:%d %b %Y}) "
            f"by {by.display_name}.",
        )


def accept_as_is(entry: ReceivedEntry, by) -> ReceivedEntry:
    """Make the entry's change now, as it was made on the node, where that is safe: the record
    changed meanwhile, a possible match that is not the same person, or an entry that waited on
    another one. The services check every rule again; what still fails stays on the worklist."""
    with transaction.atomic():
        entry = _open(entry, by)
        if not may_accept(entry):
            raise DomainError("This entry cannot be accepted as it is: choose another action.")
        made = apply(entry, force=entry.conflict != "depends", by=by)
        if entry.status == EntryStatus.CONFLICT:
            entry.save()
            return entry
        map_made(entry, made)
        return _resolved(
            entry, by, EntryStatus.RESOLVED, f"Accepted as it was made by {by.display_name}."
        )


def set_aside(entry: ReceivedEntry, reason: str, by) -> ReceivedEntry:
    """Not made on the main system, with a reason; kept and shown on the patient's record."""
    if not reason.strip():
        raise DomainError("Say why this entry is set aside.")
    with transaction.atomic():
        entry = _open(entry, by)
        return _resolved(
            entry,
            by,
            EntryStatus.SET_ASIDE,
            f"Set aside by {by.display_name}: {reason.strip()[:500]}",
        )
