"""Small helpers shared by views: safe redirects back, dates from query strings, 404s."""

import unicodedata
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from steadfast.jinja import uk_date

# The dates a page will show: wide enough for any booking or history, and far enough from the
# ends of Python's calendar (1 Jan 0001, 31 Dec 9999) that the day before, the day after and the
# week ahead of any of them exist too.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)


def day_from(request: HttpRequest, param: str = "date") -> date:
    """The day asked for in `?date=YYYY-MM-DD`; today in London when absent, and today with a
    message saying why when it is not a date, or not one the pages can show."""
    raw = request.GET.get(param, "")
    if not raw:
        return timezone.localdate()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        messages.error(request, "That is not a real date, so today is shown instead.")
        return timezone.localdate()
    if not FIRST_DAY <= day <= LAST_DAY:
        within = f"between {uk_date(FIRST_DAY)} and {uk_date(LAST_DAY)}"
        messages.error(request, f"Choose a date {within}; today is shown instead.")
        return timezone.localdate()
    return day


def safe_next(request: HttpRequest, default: str) -> str:
    """Where the form's `next` asks to go back to, if that is a path on this site; else `default`.

    Only a local path (`/appointments/...`) is followed: a bare word would be taken by
    `redirect()` for a view name (NoReverseMatch), a control character cannot go in a Location
    header, and anything else may lead off the site. Call it before any change is made, so a
    bad `next` can never follow a change already committed.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    local = (
        target.startswith("/")
        and not any(c.isspace() or unicodedata.category(c)[0] == "C" for c in target)
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    )
    return target if local else default


T = TypeVar("T")


def found(query: Callable[..., T], *args) -> T:
    """What a query finds, or the 404 page when it finds nothing or the id is malformed."""
    try:
        return query(*args)
    except (ObjectDoesNotExist, ValidationError, ValueError) as exc:
        raise Http404 from exc
