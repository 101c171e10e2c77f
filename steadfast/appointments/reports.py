"""Practice reports: the figures NHS England's GP appointment data publication uses, per week.

Appointments (not cancelled) by mode, clinician type and status; the did-not-attend rate; and
the time from booking to appointment. One grouped query over the period, whatever its size:
the database counts, Python only arranges the few hundred groups it returns.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Case, Count, DurationField, ExpressionWrapper, F, Value, When
from django.db.models.functions import TruncWeek
from django.utils import timezone

from steadfast.accounts.models import Role
from steadfast.appointments.models import Appointment, AppointmentStatus
from steadfast.appointments.queries import day_bounds
from steadfast.practices.models import DeliveryMode

S = AppointmentStatus
# Time from booking to the appointment, in whole days, as the publication groups it.
LEAD_TIMES = [
    ("same_day", "Same day", 0, 1),
    ("1_day", "1 day", 1, 2),
    ("2_7_days", "2 to 7 days", 2, 8),
    ("8_14_days", "8 to 14 days", 8, 15),
    ("15_21_days", "15 to 21 days", 15, 22),
    ("22_28_days", "22 to 28 days", 22, 29),
    ("over_28_days", "More than 28 days", 29, None),
]
STATUSES = {
    "attended": "Attended",
    "did_not_attend": "Did not attend",
    "booked": "Still to come",
}
CLINICIAN_TYPES = {Role.GP: "GP", Role.NURSE: "Nurse", Role.HCA: "Healthcare assistant"}
MODES = dict(DeliveryMode.choices)


def _status_group(status: str) -> str:
    if status == S.DID_NOT_ATTEND:
        return "did_not_attend"
    if status in (S.ARRIVED, S.IN_PROGRESS, S.FINISHED):
        return "attended"
    return "booked"


@dataclass
class Figures:
    """Counts for a week (or the whole period)."""

    total: int = 0
    mode: Counter = field(default_factory=Counter)
    clinician_type: Counter = field(default_factory=Counter)
    status: Counter = field(default_factory=Counter)
    lead_time: Counter = field(default_factory=Counter)

    def add(self, mode, clinician_type, status, lead_time, count) -> None:
        self.total += count
        self.mode[mode] += count
        self.clinician_type[clinician_type] += count
        self.status[status] += count
        self.lead_time[lead_time] += count

    @property
    def dna_rate(self) -> float | None:
        """Did-not-attends as a share of appointments that have happened (attended or not)."""
        happened = self.status["attended"] + self.status["did_not_attend"]
        return self.status["did_not_attend"] / happened if happened else None


@dataclass
class Report:
    first_week: date
    last_week: date
    weeks: list[tuple[date, Figures]]
    overall: Figures


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _lead_time_bucket():
    waited = ExpressionWrapper(F("slot__start") - F("booked_at"), output_field=DurationField())
    whens = [
        When(**{"waited__lt": timedelta(days=hi)}, then=Value(key))
        for key, _, _, hi in LEAD_TIMES
        if hi is not None
    ]
    return waited, Case(*whens, default=Value(LEAD_TIMES[-1][0]))


def appointment_report(practice, first_week: date, last_week: date) -> Report:
    """Weekly figures from the Monday `first_week` to the week of `last_week`, inclusive."""
    first_week, last_week = week_start(first_week), week_start(last_week)
    start, _ = day_bounds(first_week)
    _, end = day_bounds(last_week + timedelta(days=6))
    waited, bucket = _lead_time_bucket()
    rows = (
        Appointment.objects.filter(practice=practice, slot__start__gte=start, slot__start__lt=end)
        .exclude(status=S.CANCELLED)
        .annotate(
            week=TruncWeek("slot__start", tzinfo=timezone.get_current_timezone()),
            waited=waited,
            lead=bucket,
        )
        .values("week", "slot__delivery_mode", "slot__clinician__role", "status", "lead")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_week: dict[date, Figures] = defaultdict(Figures)
    overall = Figures()
    for row in rows:
        week = (
            timezone.localtime(row["week"]).date() if hasattr(row["week"], "hour") else row["week"]
        )
        parts = (
            row["slot__delivery_mode"],
            row["slot__clinician__role"],
            _status_group(row["status"]),
            row["lead"],
            row["n"],
        )
        by_week[week].add(*parts)
        overall.add(*parts)
    weeks, week = [], first_week
    while week <= last_week:
        weeks.append((week, by_week.get(week, Figures())))
        week += timedelta(days=7)
    return Report(first_week, last_week, weeks, overall)


def csv_rows(report: Report) -> list[list]:
    """The weekly table as rows for a spreadsheet, headings first."""
    head = ["Week starting", "Appointments"]
    head += [MODES[m] for m in MODES] + list(CLINICIAN_TYPES.values())
    head += [*STATUSES.values(), "Did-not-attend rate (%)"]
    head += [label for _, label, _, _ in LEAD_TIMES]
    rows = [head]
    for week, f in report.weeks:
        rate = f.dna_rate
        rows.append(
            [week.isoformat(), f.total]
            + [f.mode[m] for m in MODES]
            + [f.clinician_type[r] for r in CLINICIAN_TYPES]
            + [f.status[s] for s in STATUSES]
            + ["" if rate is None else f"{rate * 100:.1f}"]
            + [f.lead_time[key] for key, _, _, _ in LEAD_TIMES]
        )
    return rows
