"""When an entry happened, for entries made afterwards: from paper, or replayed after downtime.

Every writing service for arrivals, consultations, observations and medicines takes
`occurred_at` (the real time, None for now) and `entered_via` (where it was made, e.g. "node
surgery-1 during downtime"). The record keeps both the real time and the time of entry; the
entry is marked back-entered, and its audit entry carries both times. The checks live here so
the paper forms, the services and reconciliation apply the same limits.
"""

from datetime import datetime, time, timedelta

from django.utils import timezone

# A clock a little ahead (a client's, a node's) is not a time in the future.
CLOCK_ALLOWANCE = timedelta(minutes=1)
# How far back the paper route reaches: an outage's paper is entered within days, and older
# history comes with its source (a letter, a GP2GP transfer), not as a back-entry.
BACK_ENTRY_WINDOW = timedelta(days=30)
ENTERED_VIA_LIMIT = 100


class EntryTimeError(ValueError):
    """The time given cannot be when this happened; the message is fit to show a person."""


def check_occurred_at(
    occurred_at: datetime, now: datetime, *, not_before: datetime | None = None, since: str = ""
) -> datetime:
    """The time checked: aware, not in the future (beyond the clock allowance; a time just
    ahead counts as now), not before `not_before` (`since` says what that is, for the message)."""
    if timezone.is_naive(occurred_at):
        raise EntryTimeError("When this happened must include its time zone.")
    if occurred_at > now + CLOCK_ALLOWANCE:
        raise EntryTimeError("When this happened must be in the past.")
    if not_before is not None and occurred_at < not_before:
        after = since or local(not_before)
        raise EntryTimeError(f"When this happened must be on or after {after}.")
    return min(occurred_at, now)


def check_back_entry_window(occurred_at: datetime, now: datetime) -> None:
    """The paper route's reach: refused when older than BACK_ENTRY_WINDOW."""
    if occurred_at < now - BACK_ENTRY_WINDOW:
        raise EntryTimeError(
            f"When this happened must be within the last {BACK_ENTRY_WINDOW.days} days."
        )


def is_back_entry(occurred_at: datetime | None, now: datetime) -> bool:
    """Given, and earlier than now by more than a clock's drift."""
    return occurred_at is not None and now - occurred_at > CLOCK_ALLOWANCE


def start_of_day(day) -> datetime:
    """Midnight of a date in Europe/London."""
    return datetime.combine(day, time(0, 0), tzinfo=timezone.get_current_timezone())


def local(moment: datetime) -> str:
    """`24 Nov 2026 09:12` in Europe/London."""
    moment = timezone.localtime(moment)
    return f"{moment.day} {moment:%b %Y %H:%M}"


def clean_entered_via(entered_via: str) -> str:
    return " ".join(entered_via.split())[:ENTERED_VIA_LIMIT]
