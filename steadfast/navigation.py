"""Small helpers shared by views: safe redirects back, dates from query strings, 404s."""

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme


def day_from(request: HttpRequest, param: str = "date") -> date:
    """The day asked for in `?date=YYYY-MM-DD`, or today in London when absent or malformed."""
    try:
        return date.fromisoformat(request.GET.get(param, ""))
    except ValueError:
        return timezone.localdate()


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


T = TypeVar("T")


def found(query: Callable[..., T], *args) -> T:
    """What a query finds, or the 404 page when it finds nothing or the id is malformed."""
    try:
        return query(*args)
    except (ObjectDoesNotExist, ValidationError, ValueError) as exc:
        raise Http404 from exc
