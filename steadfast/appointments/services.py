"""Writes to the appointment book: generating slots, booking, cancelling, moving, arriving.

Each action is one transaction. Claiming a slot is a conditional UPDATE (`... WHERE status =
'free'`), so when many people try for the same slot the database picks exactly one winner.
A booking may carry the client's idempotency key: the database lets one appointment per practice
hold a key, so a retry (after a dropped connection, a failover, a double click) gets the first
booking back instead of a second one.
"""

from datetime import date, datetime, timedelta
from functools import cache

import holidays
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from steadfast.accounts.access import require
from steadfast.appointments.models import (
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    CancelledBy,
    Slot,
    SlotStatus,
)
from steadfast.audit import services as audit
from steadfast.continuity.downtime.journal import journaled
from steadfast.entry_times import (
    EntryTimeError,
    check_occurred_at,
    clean_entered_via,
    is_back_entry,
    local,
)
from steadfast.errors import (
    BookingKeyReused,
    InvalidTransition,
    PatientNotBookable,
    SlotUnavailable,
    VersionConflict,
)
from steadfast.patients.models import RegistrationStatus
from steadfast.practices.models import Practice, SessionTemplate

S = AppointmentStatus
# Which status may follow which. Telephone and video appointments go straight to in progress.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.BOOKED: frozenset({S.ARRIVED, S.IN_PROGRESS, S.DID_NOT_ATTEND, S.CANCELLED}),
    S.ARRIVED: frozenset({S.IN_PROGRESS, S.DID_NOT_ATTEND, S.BOOKED}),
    S.IN_PROGRESS: frozenset({S.FINISHED}),
    S.FINISHED: frozenset(),
    S.DID_NOT_ATTEND: frozenset({S.BOOKED}),
    S.CANCELLED: frozenset(),
}
BOOKABLE_REGISTRATIONS = frozenset({RegistrationStatus.REGISTERED, RegistrationStatus.TEMPORARY})
SLOT_GONE = "That slot is no longer available. Choose another slot."


def england_bank_holidays(years: range) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=years)


def generate_slots(practice: Practice, first_day: date, last_day: date) -> int:
    """Create the slots the practice's rota gives for each working day in the range.

    Bank holidays in England are skipped. Re-running is harmless: slots that already exist
    (same clinician, same start) are left as they are. Returns the number of slots created.
    """
    closed = england_bank_holidays(range(first_day.year, last_day.year + 1))
    templates = list(SessionTemplate.objects.filter(practice=practice))
    tz = timezone.get_current_timezone()
    new_slots = []
    day = first_day
    while day <= last_day:
        if day not in closed:
            for t in templates:
                if t.weekday != day.weekday():
                    continue
                if (t.valid_from and day < t.valid_from) or (t.valid_until and day > t.valid_until):
                    continue
                embargo = (
                    datetime.combine(day, t.release_time, tzinfo=tz) if t.release_time else None
                )
                start = datetime.combine(day, t.start_time, tzinfo=tz)
                session_end = datetime.combine(day, t.end_time, tzinfo=tz)
                step = timedelta(minutes=t.slot_minutes)
                while start + step <= session_end:
                    new_slots.append(
                        Slot(
                            practice=practice,
                            clinician_id=t.clinician_id,
                            start=start,
                            end=start + step,
                            slot_type=t.slot_type,
                            delivery_mode=t.delivery_mode,
                            reserved_for=t.reserved_for,
                            embargoed_until=embargo,
                            national_category=t.national_category,
                            session_template=t,
                        )
                    )
                    start += step
        day += timedelta(days=1)
    before = Slot.objects.filter(practice=practice).count()
    Slot.objects.bulk_create(new_slots, batch_size=2000, ignore_conflicts=True)
    return Slot.objects.filter(practice=practice).count() - before


def _claim_slot(slot_id, practice_id, now: datetime) -> None:
    """Take the slot if it was free and bookable at `now` (the booking's real time)."""
    claimed = (
        Slot.objects.filter(
            pk=slot_id, practice_id=practice_id, status=SlotStatus.FREE, end__gt=now
        )
        .filter(Q(embargoed_until__isnull=True) | Q(embargoed_until__lte=now))
        .update(status=SlotStatus.BOOKED)
    )
    if not claimed:
        raise SlotUnavailable(SLOT_GONE)


def _record_event(
    appointment, from_status, actor, when, note="", action="", back_entered=False, entered_via=""
) -> None:
    """Keep the appointment's own history, and put the change on the audit trail (with its real
    time too, when it is entered after it happened)."""
    audit.record(
        action or f"appointment_{appointment.status}",
        user=actor,
        patient_id=appointment.patient_id,
        detail=f"appointment {appointment.pk}",
        occurred_at=when if back_entered else None,
        entered_via=entered_via,
    )
    AppointmentEvent.objects.create(
        appointment=appointment,
        from_status=from_status,
        to_status=appointment.status,
        actor=actor,
        occurred_at=when,
        note=note,
        back_entered=back_entered,
        entered_via=entered_via,
    )


def _real_time(occurred_at, now, *, not_before=None, since="") -> tuple[datetime, bool]:
    """(when it happened, whether it is entered afterwards); InvalidTransition if impossible."""
    if occurred_at is None:
        return now, False
    try:
        when = check_occurred_at(occurred_at, now, not_before=not_before, since=since)
    except EntryTimeError as exc:
        raise InvalidTransition(str(exc)) from None
    return when, is_back_entry(occurred_at, now)


@journaled("book_appointment")
def book_appointment(
    slot_id,
    patient,
    booked_by,
    reason: str = "",
    idempotency_key: str | None = None,
    *,
    occurred_at: datetime | None = None,
    entered_via: str = "",
    slot_as_read: Slot | None = None,
) -> Appointment:
    """Book `patient` into a free, released slot of their practice, or raise SlotUnavailable.

    `slot_as_read`: the slot as the caller read it moments ago. If it was taken or blocked then,
    the booking is refused without a transaction (the 8 a.m. rush's lost races); if it was free,
    the claim in the database decides, as always.

    `occurred_at`: a booking made earlier (on paper, on a node during downtime) keeps its real
    time; the slot must have been free and released then, and must not have ended.

    With `idempotency_key`, a retry of a booking that was made returns that first appointment
    (with `replayed` True) instead of booking again. The unique key in the database decides, so
    a retry racing the first attempt cannot book twice either.
    """
    require(booked_by, "book_appointments", patient)
    if patient.registration_status not in BOOKABLE_REGISTRATIONS:
        status = patient.get_registration_status_display().lower()
        raise PatientNotBookable(f"This patient cannot be booked: their registration is {status}.")
    when, back_entered = _real_time(occurred_at, timezone.now())
    entered_via = clean_entered_via(entered_via)
    appointment = Appointment(
        practice_id=patient.practice_id,
        slot_id=slot_id,
        patient=patient,
        reason=reason.strip(),
        booked_by=booked_by,
        booked_at=when,
        status_changed_at=when,
        idempotency_key=idempotency_key or None,
    )
    event = AppointmentEvent(
        appointment=appointment,
        from_status="",
        to_status=appointment.status,
        actor=booked_by,
        occurred_at=when,
        back_entered=back_entered,
        entered_via=entered_via,
    )
    try:
        if slot_as_read is not None and str(slot_as_read.pk) != str(slot_id):
            raise ValueError("slot_as_read is not the slot being booked")
        if slot_as_read is not None and slot_as_read.status != SlotStatus.FREE:
            raise SlotUnavailable(SLOT_GONE)
        with transaction.atomic():
            head = None
            if connection.vendor == "postgresql":
                head = _claim_and_insert(appointment, event, when)
            else:
                _claim_slot(slot_id, patient.practice_id, when)
                appointment.save(force_insert=True)
                event.save(force_insert=True)
            audit.record(
                "appointment_booked",
                user=booked_by,
                patient_id=patient.pk,
                detail=f"appointment {appointment.pk}",
                occurred_at=when if back_entered else None,
                entered_via=entered_via,
                locked_head=head,
            )
    except (SlotUnavailable, IntegrityError) as exc:
        # The slot taken or the key used: by this very booking, made before, if the key says so.
        if idempotency_key and (first := _booked_with_key(patient, idempotency_key)):
            return first
        if isinstance(exc, SlotUnavailable):
            raise
        raise SlotUnavailable(SLOT_GONE) from exc  # the partial unique index: belt and braces
    appointment._state.adding, event._state.adding = False, False
    appointment.replayed = False
    return appointment


def _booked_with_key(patient, idempotency_key: str) -> Appointment | None:
    first = (
        Appointment.objects.filter(practice_id=patient.practice_id, idempotency_key=idempotency_key)
        .select_related("slot", "slot__clinician")
        .first()
    )
    if first is None:
        return None
    if first.patient_id != patient.pk:
        raise BookingKeyReused("This booking request was already used to book another patient.")
    first.replayed = True
    return first


def _insert_select(obj, source: str) -> tuple[str, list]:
    """`INSERT INTO <obj's table> (...) SELECT <its values> FROM source`: the row goes in only
    when `source` (a CTE of the same statement) has one."""
    fields = obj._meta.concrete_fields
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    return f"{_insert_into(type(obj))} FROM {source}", values


@cache
def _insert_into(model) -> str:
    """`INSERT INTO <table> (<columns>) SELECT <a typed placeholder each>` (PostgreSQL): the
    statement's text depends only on the model, so it is built once."""
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    casts = ", ".join(f"%s::{f.cast_db_type(connection)}" for f in fields)
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) SELECT {casts}"


# Claim the slot only if it is the practice's, free, not over and released (as `bookable`).
_CLAIM_SQL = (
    "UPDATE appointments_slot SET status = %s WHERE id = %s AND practice_id = %s AND status = %s"
    ' AND "end" > %s AND (embargoed_until IS NULL OR embargoed_until <= %s) RETURNING 1'
)


def _claim_and_insert(
    appointment: Appointment, event: AppointmentEvent, now: datetime
) -> tuple | None:
    """PostgreSQL: claim the slot, insert the appointment and its first event, and lock the
    practice's audit chain head, in one statement (one round trip instead of four); the same
    conditional UPDATE decides who wins. Returns the locked head's row for `audit.record` (None
    if the chain has no head yet); SlotUnavailable if the slot was not free."""
    claim = (SlotStatus.BOOKED, appointment.slot_id, appointment.practice_id, SlotStatus.FREE)
    booked, booked_params = _insert_select(appointment, "claimed")
    history, history_params = _insert_select(event, "booked")
    head, head_params = audit.head_lock_sql(
        appointment.practice_id, only_if="EXISTS (SELECT FROM history)"
    )
    sql = (
        f"WITH claimed AS ({_CLAIM_SQL}),"
        f" booked AS ({booked} RETURNING 1), history AS ({history} RETURNING 1),"
        f" head AS ({head})"
        " SELECT (SELECT count(*) FROM history), head.* FROM (SELECT 1) AS one"
        " LEFT JOIN head ON TRUE"
    )
    params = [*claim, now, now, *booked_params, *history_params, *head_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        won, *head_row = cursor.fetchone()
    if won != 1:
        raise SlotUnavailable(SLOT_GONE)
    return None if head_row[0] is None else tuple(head_row)


def _locked(appointment_id, practice_id, if_version: int | None = None) -> Appointment:
    """The appointment, locked for this transaction; VersionConflict if it has changed since
    the caller read version `if_version`."""
    appt = Appointment.objects.select_for_update().get(pk=appointment_id, practice_id=practice_id)
    if if_version is not None and appt.version != if_version:
        raise VersionConflict(
            "The appointment has changed since you read it. Read it again, then make the change."
        )
    appt.version += 1
    return appt


@journaled("cancel_appointment")
def cancel_appointment(
    appointment, cancelled_by: CancelledBy, reason: str, actor, if_version: int | None = None
) -> Appointment:
    """Cancel a booked appointment; its slot is free for someone else at once."""
    require(actor, "book_appointments", appointment.patient)
    now = timezone.now()
    with transaction.atomic():
        appt = _locked(appointment.pk, appointment.practice_id, if_version)
        if appt.status != S.BOOKED:
            status = appt.get_status_display().lower()
            raise InvalidTransition(f"Only a booked appointment can be cancelled; it is {status}.")
        appt.status = S.CANCELLED
        appt.cancelled_by = cancelled_by
        appt.cancellation_reason = reason.strip()
        appt.status_changed_at = now
        appt.save(
            update_fields=[
                "status",
                "cancelled_by",
                "cancellation_reason",
                "status_changed_at",
                "version",
            ]
        )
        Slot.objects.filter(pk=appt.slot_id).update(status=SlotStatus.FREE)
        _record_event(appt, S.BOOKED, actor, now, note=f"Cancelled by {cancelled_by}")
    return appt


@journaled("reschedule_appointment")
def reschedule_appointment(appointment, new_slot_id, actor) -> Appointment:
    """Move a booked appointment to another slot in one step: both slots change or neither."""
    require(actor, "book_appointments", appointment.patient)
    now = timezone.now()
    try:
        with transaction.atomic():
            appt = _locked(appointment.pk, appointment.practice_id)
            if appt.status != S.BOOKED:
                raise InvalidTransition("Only a booked appointment can be moved.")
            if str(appt.slot_id) == str(new_slot_id):
                raise SlotUnavailable("The appointment is already in that slot.")
            _claim_slot(new_slot_id, appt.practice_id, now)
            old_slot_id = appt.slot_id
            appt.slot_id = new_slot_id
            appt.save(update_fields=["slot", "version"])
            Slot.objects.filter(pk=old_slot_id).update(status=SlotStatus.FREE)
            _record_event(
                appt,
                S.BOOKED,
                actor,
                now,
                note=f"Moved from slot {old_slot_id}",
                action="appointment_moved",
            )
    except IntegrityError as exc:
        raise SlotUnavailable(SLOT_GONE) from exc
    return appt


@journaled("change_status")
def change_status(
    appointment,
    to_status: AppointmentStatus,
    actor,
    occurred_at: datetime | None = None,
    entered_via: str = "",
) -> Appointment:
    """Arrive, start, finish, mark did-not-attend, or undo an arrival or DNA.

    `occurred_at` is the real time of a change entered afterwards (from paper, or replayed
    after downtime): it must not be in the future, nor before the appointment's last change,
    so its history stays in order. The event is marked back-entered and keeps both times."""
    require(actor, "manage_arrivals", appointment.patient)
    if to_status == S.CANCELLED:
        raise InvalidTransition("Use cancel to cancel an appointment.")
    now = timezone.now()
    with transaction.atomic():
        appt = _locked(appointment.pk, appointment.practice_id)
        if to_status not in TRANSITIONS[appt.status]:
            raise InvalidTransition(
                f"A {appt.get_status_display().lower()} appointment cannot become "
                f"{S(to_status).label.lower()}."
            )
        last_change = appt.status_changed_at
        when, back_entered = _real_time(
            occurred_at, now, not_before=last_change, since=f"its last change, {local(last_change)}"
        )
        from_status = appt.status
        appt.status = to_status
        appt.status_changed_at = when
        appt.save(update_fields=["status", "status_changed_at", "version"])
        _record_event(
            appt,
            from_status,
            actor,
            when,
            back_entered=back_entered,
            entered_via=clean_entered_via(entered_via),
        )
    return appt


@journaled("amend_appointment")
def amend_appointment(
    appointment, actor, *, reason: str, comment: str, if_version: int | None = None
) -> Appointment:
    """Change what an appointment is for and the practice's notes on it (any status)."""
    require(actor, "book_appointments", appointment.patient)
    with transaction.atomic():
        appt = _locked(appointment.pk, appointment.practice_id, if_version)
        appt.reason = reason.strip()[:500]
        appt.comment = comment.strip()[:1000]
        appt.save(update_fields=["reason", "comment", "version"])
        audit.record(
            "appointment_amended",
            user=actor,
            patient_id=appt.patient_id,
            detail=f"appointment {appt.pk}",
        )
    return appt


def mark_arrived(appointment, actor, **when) -> Appointment:
    """`when`: occurred_at and entered_via, as change_status takes them."""
    return change_status(appointment, S.ARRIVED, actor, **when)


def start_appointment(appointment, actor, **when) -> Appointment:
    return change_status(appointment, S.IN_PROGRESS, actor, **when)


def finish_appointment(appointment, actor, **when) -> Appointment:
    return change_status(appointment, S.FINISHED, actor, **when)


def mark_did_not_attend(appointment, actor, **when) -> Appointment:
    return change_status(appointment, S.DID_NOT_ATTEND, actor, **when)
