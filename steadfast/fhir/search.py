"""Reading FHIR search parameters: date prefixes, references, paging, and refusing the unknown.

Parameters we do not support are refused (400), not ignored: a client filtering on something we
silently dropped would act on the wrong list. What is supported is in capabilities.py.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from steadfast.fhir.errors import FHIRError

DEFAULT_COUNT = 50
MAX_COUNT = 200
# Deeper than any real paging goes (a year of every clinician's slots is under 100,000); past
# it a client is walking a list it should have narrowed with a search parameter.
MAX_OFFSET = 1_000_000
# Every search takes these besides its own parameters.
COMMON_PARAMETERS = frozenset({"_count", "_offset", "_format"})
_DATE_VALUE = re.compile(r"^(eq|ne|gt|lt|ge|le|sa|eb|ap)?(\d{4}(-\d{2}(-\d{2}(T.+)?)?)?)$")
SUPPORTED_PREFIXES = ("eq", "gt", "lt", "ge", "le")


@dataclass(frozen=True)
class Paging:
    count: int
    offset: int


def check_parameters(request, allowed: set[str] | frozenset[str]) -> None:
    unknown = sorted(set(request.GET) - set(allowed) - COMMON_PARAMETERS)
    if unknown:
        raise FHIRError(400, f"Unsupported search parameter: {', '.join(unknown)}.")


def paging(request) -> Paging:
    """`_count` and `_offset`; 400 outside 0..MAX_COUNT and 0..MAX_OFFSET, rather than a page
    silently smaller than asked for or an offset the database cannot hold."""
    return Paging(
        count=_whole_number(request, "_count", DEFAULT_COUNT, MAX_COUNT),
        offset=_whole_number(request, "_offset", 0, MAX_OFFSET),
    )


def _whole_number(request, name: str, default: int, most: int) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise FHIRError(400, f"{name} must be a whole number.")
    if len(raw) > len(str(most)) or int(raw) > most:
        raise FHIRError(400, f"{name} must be between 0 and {most:,}.")
    return int(raw)


def _days(text: str) -> tuple[date, date]:
    """The days [first, after last) a FHIR date names: `1970`, `1970-11` or `1970-11-24`."""
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 3:
        first = date(*parts)
        return first, first + timedelta(days=1)
    if len(parts) == 2:
        first = date(parts[0], parts[1], 1)
        year, month = divmod(parts[0] * 12 + parts[1], 12)  # the month after, 1-based
        return first, date(year, month + 1, 1)
    return date(parts[0], 1, 1), date(parts[0] + 1, 1, 1)


def _interval(text: str, name: str) -> tuple[datetime, datetime] | datetime:
    """The London days [low, high) a date, month or year names, or the instant a date-time
    names."""
    if "T" not in text:
        tz = timezone.get_current_timezone()
        try:
            first, after = _days(text)
            low = datetime.combine(first, time.min, tzinfo=tz)
            return low, datetime.combine(after, time.min, tzinfo=tz)
        except (ValueError, OverflowError) as exc:
            raise FHIRError(400, f"{name}: {text!r} is not a date (YYYY-MM-DD).") from exc
    try:
        moment = parse_datetime(text)
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise FHIRError(400, f"{name}: {text!r} is not a date-time.")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


_INSTANT_LOOKUPS = {"eq": "exact", "ge": "gte", "gt": "gt", "le": "lte", "lt": "lt"}


def date_filter(request, name: str, field: str, *, dates_only: bool = False) -> Q:
    """Q for every `name=[prefix]value` in the query (all apply, as FHIR says).

    A date covers its whole London day (a month or a year, all of it): `ge2026-11-24` starts at
    midnight, `le2026-11` runs to the end of November. `dates_only` is for date fields (birth
    date) rather than instants.
    """
    q = Q()
    for raw in request.GET.getlist(name):
        match = _DATE_VALUE.match(raw.strip())
        if not match:
            raise FHIRError(400, f"{name}: {raw!r} is not a FHIR date (e.g. ge2026-11-24).")
        prefix = match.group(1) or "eq"
        if prefix not in SUPPORTED_PREFIXES:
            raise FHIRError(400, f"{name}: the prefix {prefix!r} is not supported.")
        value = _interval(match.group(2), name)
        if isinstance(value, datetime):
            if dates_only:
                raise FHIRError(400, f"{name} takes a date (YYYY-MM-DD), not a date-time.")
            q &= Q(**{f"{field}__{_INSTANT_LOOKUPS[prefix]}": value})
            continue
        low, high = value
        if dates_only:
            low, high = low.date(), high.date()
        q &= {
            "eq": Q(**{f"{field}__gte": low, f"{field}__lt": high}),
            "ge": Q(**{f"{field}__gte": low}),
            "gt": Q(**{f"{field}__gte": high}),
            "le": Q(**{f"{field}__lt": high}),
            "lt": Q(**{f"{field}__lt": low}),
        }[prefix]
    return q


def reference_id(value: str, resource_type: str) -> str:
    """`Patient/123`, a full URL ending so, or a bare `123` -> `123`; 400 for another type."""
    value = value.strip().rstrip("/")
    parts = value.split("/")
    if len(parts) == 1:
        return parts[0]
    if parts[-2] != resource_type:
        raise FHIRError(400, f"Expected a reference to a {resource_type}, got {value!r}.")
    return parts[-1]


def includes(request, allowed: set[str]) -> set[str]:
    wanted = set(request.GET.getlist("_include"))
    if unknown := wanted - allowed:
        raise FHIRError(400, f"Unsupported _include: {', '.join(sorted(unknown))}.")
    return wanted
