"""Reads of the appointment book, shaped for the screens that show them.

Each query runs a fixed number of SQL statements whatever the size of the book.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache, partial
from typing import NamedTuple
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    FilteredRelation,
    Prefetch,
    Q,
    QuerySet,
)
from django.utils import timezone

from steadfast import joined_rows
from steadfast.appointments.models import (
    LIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    Slot,
    SlotStatus,
)
from steadfast.patients.models import Patient
from steadfast.patients.names import name_key
from steadfast.practices.models import Practice


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The start and end of a London calendar day, as aware datetimes (23 or 25 hours at the
    clock changes)."""
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(day, time.min, tzinfo=tz),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz),
    )


class BookSlot(NamedTuple):
    """A slot as the day view shows it, with its live appointment's id and status and its
    patient's names (None when free): plain values, not model instances, for hundreds of
    cells."""

    id: UUID
    clinician_id: int
    start: datetime
    over: bool  # it ended before the `now` of the read
    status: str
    slot_type: str
    delivery_mode: str
    reserved_for: str
    embargoed_until: datetime | None
    appointment_id: UUID | None
    appointment_status: str | None
    patient_title: str | None
    patient_given_name: str | None
    patient_family_name: str | None


@dataclass
class BookColumn:
    clinician: object
    slots: list[BookSlot] = field(default_factory=list)


@dataclass
class DayBook:
    day: date
    columns: list[BookColumn]
    times: list[datetime]
    now: datetime

    def grid(self) -> list[tuple[datetime, list]]:
        """Rows by start time, one cell per clinician (None where they have no slot then)."""
        by_clinician = [{s.start: s for s in col.slots} for col in self.columns]
        return [(t, [cells.get(t) for cells in by_clinician]) for t in self.times]


def day_book(
    practice: Practice,
    day: date,
    clinician_id: int | None = None,
    slot_type: str = "",
    clinicians: list | None = None,
    now: datetime | None = None,
) -> DayBook:
    """Every clinician's slots on `day` (or one clinician's, or one type's) as they stand at
    `now`, each with its live appointment and patient. `clinicians`: those working that day,
    when the caller has them already (`clinicians_working`), saves reading them again.

    One query with `clinicians` (two without): the slots outer-joined to their live appointment
    (a slot has at most one) and its patient, read as plain rows (BookSlot) with only the
    columns a cell shows; whether a slot is over is worked out by the database, so its end
    need not be read."""
    now = now or timezone.now()
    start, end = day_bounds(day)
    chosen = Slot.objects.filter(practice=practice, start__gte=start, start__lt=end)
    if clinician_id:
        chosen = chosen.filter(clinician_id=clinician_id)
    if slot_type:
        chosen = chosen.filter(slot_type=slot_type)
    rows = (
        chosen.annotate(
            live=FilteredRelation(
                "appointments", condition=Q(appointments__status__in=LIVE_STATUSES)
            ),
            over=ExpressionWrapper(Q(end__lt=now), output_field=BooleanField()),
        )
        .order_by("start")
        .values_list(*_BOOK_COLUMNS)
    )
    slots = [BookSlot._make(row) for row in rows]
    # Clinicians are read apart, not joined: a day has a few clinicians but hundreds of slots.
    # Any not among `clinicians` (given slots since the caller read them) are read here.
    by_id = {c.pk: c for c in clinicians or []}
    if missing := {s.clinician_id for s in slots} - by_id.keys():
        by_id.update((c.pk, c) for c in get_user_model().objects.filter(pk__in=missing))
    columns: dict[int, BookColumn] = {}
    for slot in slots:
        if column := columns.get(slot.clinician_id):
            column.slots.append(slot)
        else:
            columns[slot.clinician_id] = BookColumn(by_id[slot.clinician_id], [slot])
    ordered = sorted(columns.values(), key=lambda c: (c.clinician.role, c.clinician.last_name))
    times = sorted({s.start for s in slots})
    return DayBook(day=day, columns=ordered, times=times, now=now)


# BookSlot's fields as day_book reads them.
_BOOK_COLUMNS = (
    "id",
    "clinician_id",
    "start",
    "over",
    "status",
    "slot_type",
    "delivery_mode",
    "reserved_for",
    "embargoed_until",
    "live__id",
    "live__status",
    "live__patient__title",
    "live__patient__given_name",
    "live__patient__family_name",
)


def book_slot(slot: Slot, now: datetime) -> BookSlot:
    """A Slot (with its `appointment` and that appointment's patient, as `book_cell` gives it)
    as day_book reads it: the cell the Book answer draws in place of the pressed one."""
    appointment = slot.appointment
    patient = appointment.patient if appointment else None
    return BookSlot(
        slot.pk,
        slot.clinician_id,
        slot.start,
        slot.end < now,
        slot.status,
        slot.slot_type,
        slot.delivery_mode,
        slot.reserved_for,
        slot.embargoed_until,
        appointment.pk if appointment else None,
        appointment.status if appointment else None,
        patient.title if patient else None,
        patient.given_name if patient else None,
        patient.family_name if patient else None,
    )


# A Slot field's value as a parameter of the hand-written reads below.
_slot_value = partial(joined_rows.db_value, Slot)


def book_cell(practice_id, slot_id) -> Slot:
    """One slot as a cell of the day view shows it: its clinician and live appointment (with
    its patient), in one query. Slot.DoesNotExist if it is not the practice's."""
    slot, _ = _read_slot(practice_id, slot_id, cell=True)
    if slot is None:
        raise Slot.DoesNotExist
    return slot


def nearest_free_slots(slot: Slot, limit: int = 6) -> list[Slot]:
    """Bookable slots on the same London day as `slot`, the first at or after its start, then
    (when the rest of the day has too few) the latest before it: what reception offers a
    patient whose slot has just gone. One hand-written query: after a lost race in the 8 a.m.
    rush, most Book presses end here."""
    now = timezone.now()
    start, end = day_bounds(timezone.localtime(slot.start).date())
    User = get_user_model()
    sql = (
        f"SELECT {joined_rows.columns(Slot, 's')}, {joined_rows.columns(User, 'c')}"
        f" FROM {joined_rows.table(Slot)} s"
        f" JOIN {joined_rows.table(User)} c ON c.id = s.clinician_id"
        " WHERE s.practice_id = %s AND s.start >= %s AND s.start < %s AND s.id <> %s"
        # bookable(now): free, not over, released from any embargo
        ' AND s.status = %s AND s."end" > %s'
        " AND (s.embargoed_until IS NULL OR s.embargoed_until <= %s)"
        # The later ones from the earliest, then the earlier ones from the latest.
        " ORDER BY CASE WHEN s.start >= %s THEN 0 ELSE 1 END,"
        " CASE WHEN s.start >= %s THEN s.start END, s.start DESC, s.clinician_id"
        " LIMIT %s"
    )
    at = _slot_value("start", slot.start)
    params = [
        _slot_value("practice", slot.practice_id),
        _slot_value("start", start),
        _slot_value("start", end),
    ]
    params += [
        _slot_value("id", slot.pk),
        SlotStatus.FREE,
        _slot_value("end", now),
        _slot_value("end", now),
    ]
    params += [at, at, limit]
    nearest = []
    for found, clinician in joined_rows.read_all(sql, params, Slot, User):
        found.clinician = clinician
        nearest.append(found)
    return sorted(nearest, key=lambda s: (s.start, s.clinician_id))


# What the arrivals list and a clinician's own list show of an appointment (_rows.jinja): the
# lists reception reloads all day read these columns, not every column of four tables.
LISTED_FIELDS = (
    "id",
    "status",
    "reason",
    "slot",
    "patient",
    "slot__start",
    "slot__clinician",
    "slot__clinician__username",
    "slot__clinician__title",
    "slot__clinician__first_name",
    "slot__clinician__last_name",
    "patient__title",
    "patient__given_name",
    "patient__family_name",
    "patient__date_of_birth",
)


def _appointments_on(practice: Practice, day: date, listed: bool = False) -> QuerySet[Appointment]:
    start, end = day_bounds(day)
    rows = (
        Appointment.objects.filter(
            practice=practice, slot__start__gte=start, slot__start__lt=end, status__in=LIVE_STATUSES
        )
        .select_related("slot", "slot__clinician", "patient")
        .order_by("slot__start", "slot__clinician__last_name")
    )
    return rows.only(*LISTED_FIELDS) if listed else rows


# Who reception is still waiting for or waiting to be seen: the arrivals list's default.
STILL_EXPECTED = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)


def arrivals(
    practice: Practice,
    day: date,
    *,
    clinician_id: int | None = None,
    name: str = "",
    everyone: bool = False,
    listed: bool = False,
) -> list[Appointment]:
    """Reception's list in time order: those still expected (or everyone), for one clinician
    or all, whose first or last name starts with `name`. `listed`: only what the list on
    screen shows (LISTED_FIELDS); the printed list and the downtime pack read more."""
    rows = _appointments_on(practice, day, listed)
    if not everyone:
        rows = rows.filter(status__in=STILL_EXPECTED)
    if clinician_id:
        rows = rows.filter(slot__clinician_id=clinician_id)
    for word in filter(None, map(name_key, name.split())):
        rows = rows.filter(
            Q(patient__family_name_key__startswith=word)
            | Q(patient__given_name_key__startswith=word)
        )
    return list(rows)


def clinicians_working(practice: Practice, day: date) -> list:
    """The clinicians with a session on `day`, for the filters of the day's pages."""
    start, end = day_bounds(day)
    ids = (
        Slot.objects.filter(practice=practice, start__gte=start, start__lt=end)
        .values("clinician_id")
        .distinct()
    )
    return list(get_user_model().objects.filter(pk__in=ids).order_by("role", "last_name"))


def clinician_list(clinician, day: date) -> list[Appointment]:
    """A clinician's own patients for the day."""
    return list(
        _appointments_on(clinician.practice, day, listed=True).filter(slot__clinician=clinician)
    )


def appointment_for_practice(practice: Practice, appointment_id) -> Appointment:
    return (
        Appointment.objects.select_related("slot", "slot__clinician", "patient", "booked_by")
        .prefetch_related("events__actor")
        .get(pk=appointment_id, practice=practice)
    )


def slot_for_practice(practice_id, slot_id) -> Slot:
    return Slot.objects.select_related("clinician").get(pk=slot_id, practice_id=practice_id)


def slot_and_patient(
    practice_id, slot_id, patient_id, *, cell: bool = False
) -> tuple[Slot | None, Patient | None]:
    """The practice's slot (with its clinician) and patient, in one query, for the booking
    request; None for either that is not the practice's. Ids must be valid UUIDs.

    With `cell`, the slot also carries its live appointment (with its patient) as `book_cell`
    gives it: a Book button pressed on a slot already taken (most presses in the 8 a.m. rush)
    is answered with the cell as read, without reading the slot again."""
    return _read_slot(practice_id, slot_id, patient_id, cell=cell)


def _read_slot(
    practice_id, slot_id, patient_id=None, *, cell: bool
) -> tuple[Slot | None, Patient | None]:
    """`slot_and_patient` and `book_cell`: one hand-written query, its text made once."""
    params = [_slot_value("id", slot_id), _slot_value("id", practice_id)]
    params += [*LIVE_STATUSES] if cell else []
    if patient_id is not None:
        params += [_slot_value("id", patient_id), _slot_value("id", practice_id)]
    sql, models = _read_slot_sql(connection.vendor, cell, patient_id is not None)
    slot, clinician, *rest = joined_rows.read_one(sql, params, *models)
    appointment, holder = rest[:2] if cell else (None, None)
    patient = rest[-1] if patient_id is not None else None
    if slot is not None:
        slot.clinician = clinician
        if cell:
            slot.appointment = appointment
            if appointment is not None:
                appointment.slot, appointment.patient = slot, holder
    return slot, patient


@cache
def _read_slot_sql(vendor: str, cell: bool, with_patient: bool) -> tuple[str, tuple]:
    User = get_user_model()
    parts = [(Slot, "s"), (User, "c")]
    parts += [(Appointment, "a"), (Patient, "h")] if cell else []
    parts += [(Patient, "p")] if with_patient else []
    sql = (
        f"SELECT {', '.join(joined_rows.columns(m, alias) for m, alias in parts)}"
        f" FROM (SELECT 1) AS one"
        f" LEFT JOIN {joined_rows.table(Slot)} s ON s.id = %s AND s.practice_id = %s"
        f" LEFT JOIN {joined_rows.table(User)} c ON c.id = s.clinician_id"
    )
    if cell:
        live = ", ".join(["%s"] * len(LIVE_STATUSES))
        sql += (
            f" LEFT JOIN {joined_rows.table(Appointment)} a"
            f" ON a.slot_id = s.id AND a.status IN ({live})"
            f" LEFT JOIN {joined_rows.table(Patient)} h ON h.id = a.patient_id"
        )
    if with_patient:
        sql += f" LEFT JOIN {joined_rows.table(Patient)} p ON p.id = %s AND p.practice_id = %s"
    return sql, tuple(m for m, _ in parts)


def bookable(now: datetime) -> Q:
    """Slots that can be booked at `now`: free, not over, and released from any embargo
    (the same test booking applies when it claims the slot)."""
    return Q(status=SlotStatus.FREE, end__gt=now) & (
        Q(embargoed_until__isnull=True) | Q(embargoed_until__lte=now)
    )


def free_slots(
    practice: Practice,
    first_day: date,
    days: int = 7,
    clinician=None,
    limit: int = 200,
) -> list[Slot]:
    """Bookable slots from `first_day`: free, not over, and released from any embargo."""
    now = timezone.now()
    start, _ = day_bounds(first_day)
    _, end = day_bounds(first_day + timedelta(days=days - 1))
    qs = (
        Slot.objects.filter(practice=practice, start__gte=max(start, now), start__lt=end)
        .filter(bookable(now))
        .select_related("clinician")
        .order_by("start", "clinician__last_name")
    )
    if clinician is not None:
        qs = qs.filter(clinician=clinician)
    return list(qs[:limit])


def patient_appointments(patient) -> tuple[list[Appointment], list[Appointment]]:
    """(upcoming, past) appointments of a patient, cancelled ones included in the past list."""
    now = timezone.now()
    rows = list(
        Appointment.objects.filter(patient=patient)
        .select_related("slot", "slot__clinician")
        .order_by("slot__start")
    )
    upcoming = [a for a in rows if a.slot.end > now and a.status != AppointmentStatus.CANCELLED]
    upcoming_ids = {a.pk for a in upcoming}
    past = [a for a in reversed(rows) if a.pk not in upcoming_ids]
    return upcoming, past


@dataclass
class PrintedList:
    clinician: object
    slots: list  # each with .appointment (live, patient loaded) or None


def printed_lists(practice: Practice, day: date, clinician_id: int | None = None) -> list:
    """Each clinician's slots on `day` with the patient booked in each, for the printed lists
    (name, birth date and NHS number: what reception checks at the desk). Two queries."""
    start, end = day_bounds(day)
    slots = Slot.objects.filter(practice=practice, start__gte=start, start__lt=end)
    if clinician_id:
        slots = slots.filter(clinician_id=clinician_id)
    live = Prefetch(
        "appointments",
        queryset=Appointment.objects.filter(status__in=LIVE_STATUSES).select_related("patient"),
        to_attr="live_appointments",
    )
    lists: dict[int, PrintedList] = {}
    for slot in slots.select_related("clinician").prefetch_related(live).order_by("start"):
        slot.appointment = slot.live_appointments[0] if slot.live_appointments else None
        lists.setdefault(slot.clinician_id, PrintedList(slot.clinician, [])).slots.append(slot)
    return sorted(lists.values(), key=lambda c: (c.clinician.role, c.clinician.last_name))
