"""The Jinja2 environment shared by every page: NHS.UK macros, URLs and UK date formats."""

import uuid
from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from jinja2 import ChainableUndefined, Environment

from steadfast.accounts.access import can
from steadfast.audit.queries import open_alert_count
from steadfast.continuity.node.banner import practice_copy_banner
from steadfast.patients.nhs_numbers import format_nhs_number
from steadfast.records.queries import record_banner


def uk_date(value: date | datetime | None) -> str:
    """`24 Nov 2026`, as people in the UK read a date."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return f"{value.day} {value:%b %Y}"


COUNTABLE_UNITS = {"tablet", "capsule", "sachet", "patch", "inhaler", "pessary", "suppository"}


def counted(quantity, unit: str) -> str:
    """`56 tablets`, `1 tablet`, `100 ml`: plural only for things that are counted."""
    if quantity is None:
        return "quantity not given"
    plural = quantity != 1 and unit in COUNTABLE_UNITS
    return f"{quantity} {unit}{'s' if plural else ''}"


def uk_time(value: datetime | None) -> str:
    """`08:30` in Europe/London."""
    return "" if value is None else f"{timezone.localtime(value):%H:%M}"


def uk_weekday_date(value: date) -> str:
    """`Tuesday 24 Nov 2026`, for page headings."""
    return f"{value:%A} {uk_date(value)}"


def local_iso_date(value: datetime) -> str:
    """`2026-11-24`: the London date of an instant, for `?date=` links."""
    return timezone.localtime(value).date().isoformat()


def url(name: str, *args: Any, **kwargs: Any) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def environment(**options: Any) -> Environment:
    options["undefined"] = ChainableUndefined
    options["extensions"] = [*options.get("extensions", []), "jinja2.ext.do"]
    env = Environment(**options)
    env.globals.update(
        url=url,
        static=static,
        can=can,
        open_alert_count=open_alert_count,
        practice_copy_banner=practice_copy_banner,
        record_banner=record_banner,
        get_messages=messages.get_messages,
        csrf_token_value=get_token,
        new_booking_key=uuid.uuid4,
    )
    env.filters.update(
        uk_date=uk_date,
        uk_time=uk_time,
        uk_weekday_date=uk_weekday_date,
        nhs_number=format_nhs_number,
        uk_local_iso=local_iso_date,
    )
    env.globals.update(counted=counted)
    return env
