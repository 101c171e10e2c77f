"""Reads for the worklist (central server) and the node's downtime page."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from steadfast.accounts.access import CLINICAL
from steadfast.appointments.models import Appointment, AppointmentStatus, Slot
from steadfast.appointments.queries import bookable
from steadfast.continuity.downtime.models import EntryStatus, ReceivedEntry
from steadfast.patients.models import Patient
from steadfast.patients.queries import possible_duplicates

UNREACHABLE_FOR = timedelta(seconds=60)


def _visible(user):
    """Managers see the appointment book's and registrations' entries; clinicians the clinical."""
    return Q(practice_id=user.practice_id, clinical=user.role in CLINICAL)


def worklist(user, *, show: str = "open") -> list[ReceivedEntry]:
    entries = ReceivedEntry.objects.filter(_visible(user)).select_related(
        "author", "patient", "resolved_by"
    )
    if show == "open":
        entries = entries.filter(status=EntryStatus.CONFLICT)
    else:
        entries = entries.exclude(status=EntryStatus.MERGED)
    return list(entries.order_by("node_name", "seq")[:500])


def worklist_entry(user, entry_id) -> ReceivedEntry | None:
    """One entry of the practice's; a clinical one only for a clinician."""
    visible = Q(practice_id=user.practice_id)
    if user.role not in CLINICAL:
        visible &= Q(clinical=False)
    return (
        ReceivedEntry.objects.filter(visible, pk=entry_id)
        .select_related("author", "patient", "resolved_by")
        .first()
    )


def open_count(user) -> int:
    return ReceivedEntry.objects.filter(_visible(user), status=EntryStatus.CONFLICT).count()


def nearest_free_slots(slot_id, practice_id, limit: int = 5) -> list[Slot]:
    """Free, bookable slots nearest in time to the one the downtime booking wanted (its
    clinician's first among equals)."""
    wanted = Slot.objects.filter(pk=slot_id, practice_id=practice_id).first()
    if wanted is None:
        return []
    now = timezone.now()
    free = (
        Slot.objects.filter(practice_id=practice_id, start__gte=now)
        .filter(bookable(now))
        .exclude(pk=wanted.pk)
        .select_related("clinician")
    )
    later = list(free.filter(start__gte=wanted.start).order_by("start")[:limit])
    earlier = list(free.filter(start__lt=wanted.start).order_by("-start")[:limit])
    nearest = sorted(
        later + earlier,
        key=lambda s: (abs(s.start - wanted.start), s.clinician_id != wanted.clinician_id),
    )
    return nearest[:limit]


def offered_slots(entry: ReceivedEntry, wanted: Slot | None) -> list[Slot]:
    """What the worklist offers a downtime booking still waiting: the free slots nearest the
    one it wanted. Unlike the appointment book's offer (the same day), these may be on other
    days, since the day the node booked for has often passed by the time it is reconciled."""
    if wanted is None or entry.action != "book_appointment":
        return []
    if entry.status != EntryStatus.CONFLICT:
        return []
    return nearest_free_slots(wanted.pk, entry.practice_id)


def session_tally(session) -> dict[str, int]:
    """A downtime session's entries: all, still to send, and on the main system's worklist."""
    if session is None:
        return {"entries": 0, "waiting": 0, "conflicts": 0}
    entries = session.entries
    return {
        "entries": entries.count(),
        "waiting": entries.filter(outcome="").count(),
        "conflicts": entries.filter(outcome="conflict").count(),
    }


def wanted_slot(entry: ReceivedEntry) -> Slot | None:
    slot_id = entry.data.get("slot")
    return Slot.objects.filter(pk=slot_id).select_related("clinician").first() if slot_id else None


def slot_holder(slot: Slot | None) -> Appointment | None:
    """Who holds the slot on the main system now."""
    if slot is None:
        return None
    return (
        Appointment.objects.filter(slot=slot)
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("patient", "booked_by")
        .first()
    )


def central_appointment(entry: ReceivedEntry) -> Appointment | None:
    from steadfast.continuity.downtime.replay import Conflict, central_id

    node_id = entry.data.get("appointment")
    if not node_id:
        return None
    try:
        pk = central_id(entry, node_id)
    except Conflict:
        return None
    return (
        Appointment.objects.filter(pk=pk, practice_id=entry.practice_id)
        .select_related("patient", "slot", "slot__clinician")
        .first()
    )


def possible_matches(entry: ReceivedEntry) -> list[Patient]:
    """Registered patients a downtime registration may be (none for other entries)."""
    if entry.action != "register_patient":
        return []
    details = entry.data.get("details") or {}
    if not details:
        return []
    from datetime import date

    found = possible_duplicates(
        entry.practice,
        details.get("given_name", ""),
        details.get("family_name", ""),
        date.fromisoformat(details["date_of_birth"]),
    )
    if details.get("nhs_number"):
        found += list(
            Patient.objects.filter(practice_id=entry.practice_id, nhs_number=details["nhs_number"])
        )
    return list({p.pk: p for p in found}.values())


def set_aside_for(patient) -> list[ReceivedEntry]:
    """Downtime entries for this patient that were not made on the main record (set aside, or
    still waiting for a person): the record shows them so none is forgotten."""
    return list(
        ReceivedEntry.objects.filter(
            patient=patient, status__in=[EntryStatus.SET_ASIDE, EntryStatus.CONFLICT]
        )
        .select_related("author", "resolved_by")
        .order_by("occurred_at")
    )


def upstream_unreachable(state) -> bool:
    """The node has not reached the central server for over a minute."""
    if state is None or not state.last_error_at:
        return False
    last_good = state.caught_up_at
    return last_good is None or timezone.now() - last_good > UNREACHABLE_FOR


def practice_patient(practice_id, patient_id) -> Patient | None:
    try:
        return Patient.objects.filter(pk=patient_id, practice_id=practice_id).first()
    except (ValueError, ValidationError):
        return None
