"""Writes to the rota: clinicians' weekly sessions, and the slots they make.

Saving a session brings its future slots into line: free slots it no longer makes go, free ones
it still makes take its new type, mode and release time, new ones are made. A booked slot is
never touched, whatever the change.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from steadfast.accounts.access import require
from steadfast.appointments.models import Slot, SlotStatus
from steadfast.appointments.services import generate_slots
from steadfast.audit.services import record
from steadfast.errors import DomainError
from steadfast.practices.models import SessionTemplate

WEEKS_AHEAD = 6  # how far ahead saving a session makes its slots
SESSION_FIELDS = (
    "clinician",
    "weekday",
    "start_time",
    "end_time",
    "slot_minutes",
    "slot_type",
    "delivery_mode",
    "reserved_for",
    "release_time",
    "valid_from",
    "valid_until",
    "national_category",
)


@dataclass
class RotaChange:
    session: SessionTemplate
    made: int  # new slots
    removed: int  # free slots the session no longer makes
    kept_booked: int  # booked slots left as they were although the session changed


def slot_times(start_time: time, end_time: time, minutes: int) -> list[time]:
    """The start of each whole slot a session makes: the preview shown before saving."""
    if minutes < 5 or start_time >= end_time:
        return []
    day = date(2000, 1, 3)
    start = datetime.combine(day, start_time)
    end = datetime.combine(day, end_time)
    step = timedelta(minutes=minutes)
    times = []
    while start + step <= end:
        times.append(start.time())
        start += step
    return times


def save_session(actor, session: SessionTemplate | None, **fields) -> RotaChange:
    """Add a weekly session (session None) or change one, then bring its slots into line."""
    clinician = fields["clinician"]
    require(actor, "manage_rotas", practice_id=clinician.practice_id)
    if fields["start_time"] >= fields["end_time"]:
        raise DomainError("The session must end after it starts.")
    first, last = fields.get("valid_from"), fields.get("valid_until")
    if first and last and first > last:
        raise DomainError("'Valid until' must be the same as or after 'valid from'.")
    with transaction.atomic():
        session = session or SessionTemplate(practice_id=clinician.practice_id)
        for name in SESSION_FIELDS:
            setattr(session, name, fields.get(name))
        session.reserved_for = session.reserved_for or ""
        session.save()
        change = _bring_slots_into_line(session)
        record(
            "save_rota_session",
            user=actor,
            detail=f"session {session.pk}: {change.made} made, {change.removed} removed",
        )
    return change


def end_session(actor, session: SessionTemplate) -> RotaChange:
    """Stop a weekly session from today: its free future slots go, booked ones stay."""
    require(actor, "manage_rotas", practice_id=session.practice_id)
    with transaction.atomic():
        session.valid_until = timezone.localdate() - timedelta(days=1)
        session.save(update_fields=["valid_until"])
        change = _bring_slots_into_line(session)
        record("end_rota_session", user=actor, detail=f"session {session.pk}")
    return change


def _bring_slots_into_line(session: SessionTemplate) -> RotaChange:
    now = timezone.now()
    today = timezone.localdate()
    future = Slot.objects.filter(session_template=session, start__gte=now)
    wanted = _starts(session, today, today + timedelta(weeks=WEEKS_AHEAD))
    free = future.filter(status=SlotStatus.FREE, appointments__isnull=True)
    stale = [s.pk for s in free.only("pk", "start") if s.start not in wanted]
    removed, _ = Slot.objects.filter(pk__in=stale).delete()
    kept_booked = future.exclude(status=SlotStatus.FREE).exclude(start__in=wanted).count()
    for slot in free.filter(start__in=wanted):
        slot.end = slot.start + timedelta(minutes=session.slot_minutes)
        slot.slot_type, slot.delivery_mode = session.slot_type, session.delivery_mode
        slot.reserved_for, slot.national_category = session.reserved_for, session.national_category
        slot.embargoed_until = (
            datetime.combine(
                timezone.localtime(slot.start).date(),
                session.release_time,
                tzinfo=timezone.get_current_timezone(),
            )
            if session.release_time
            else None
        )
        slot.save()
    made = generate_slots(session.practice, today, today + timedelta(weeks=WEEKS_AHEAD))
    return RotaChange(session, made, removed, kept_booked)


def _starts(session: SessionTemplate, first_day: date, last_day: date) -> set[datetime]:
    tz = timezone.get_current_timezone()
    times = slot_times(session.start_time, session.end_time, session.slot_minutes)
    starts, day = set(), first_day
    while day <= last_day:
        valid = not (session.valid_from and day < session.valid_from) and not (
            session.valid_until and day > session.valid_until
        )
        if valid and day.weekday() == session.weekday:
            starts.update(datetime.combine(day, t, tzinfo=tz) for t in times)
        day += timedelta(days=1)
    return starts
