"""The Jinja2 environment shared by every page: NHS.UK macros, URLs and UK date formats."""

import uuid
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.db import models
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from jinja2 import ChainableUndefined, Environment

from steadfast.accounts.access import can
from steadfast.audit.queries import open_alert_count
from steadfast.continuity.downtime.queries import open_count as downtime_conflict_count
from steadfast.continuity.downtime.queries import set_aside_for as downtime_entries_for
from steadfast.continuity.downtime.replay import ACTION_NAMES
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
    return "" if value is None else _clock_time(value, timezone.get_current_timezone())


@lru_cache(maxsize=4096)
def _clock_time(value: datetime, zone) -> str:
    # A day view shows each start time a dozen times (the row, every clinician's cell labels).
    return f"{timezone.localtime(value, zone):%H:%M}"


def uk_date_time(value: datetime | None) -> str:
    """`24 Nov 2026 09:12` in Europe/London."""
    return "" if value is None else f"{uk_date(value)} {uk_time(value)}"


def uk_weekday_date(value: date) -> str:
    """`Tuesday 24 Nov 2026`, for page headings."""
    return f"{value:%A} {uk_date(value)}"


def local_iso_date(value: datetime) -> str:
    """`2026-11-24`: the London date of an instant, for `?date=` links."""
    return timezone.localtime(value).date().isoformat()


def url(name: str, *args: Any, **kwargs: Any) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


_PLACEHOLDER = UUID(int=0)


@lru_cache(maxsize=64)
def _id_url_pattern(name: str, script_prefix: str) -> tuple[str, str]:
    return tuple(reverse(name, args=[_PLACEHOLDER]).split(str(_PLACEHOLDER)))  # type: ignore


def id_url(name: str, pk: UUID) -> str:
    """`url(name, pk)` for a URL whose only argument is a UUID, without resolving the pattern
    again for each of the hundreds of cells a day view draws (the pattern is code, not data)."""
    before, after = _id_url_pattern(name, get_script_prefix())
    return f"{before}{pk}{after}"


def id_url_maker(name: str) -> Callable[[UUID], str]:
    """`id_url` for many ids of one URL name in one request: the script prefix read once."""
    before, after = _id_url_pattern(name, get_script_prefix())
    return lambda pk: f"{before}{pk}{after}"


def display(obj: models.Model, field: str) -> str:
    """`obj.get_<field>_display()`, read from a dict made once per field: Django's rebuilds its
    lookup on every call, and a day view makes thousands of them."""
    value = getattr(obj, field)
    return choice_labels(type(obj), field).get(value, value)


def describe_slot(slot) -> str:
    """What a slot is, for labels and lists: `Dr A Okafor, 09:00, Routine, Face to face`."""
    return slot_description(
        slot.clinician.display_name,
        uk_time(slot.start),
        display(slot, "slot_type"),
        display(slot, "delivery_mode"),
    )


def slot_description(clinician: str, start: str, slot_type: str, delivery_mode: str) -> str:
    """`describe_slot` from its parts, already formatted (the day view makes them once a page)."""
    return f"{clinician}, {start}, {slot_type}, {delivery_mode}"


@lru_cache(maxsize=128)
def choice_labels(model: type[models.Model], field: str) -> dict:
    """The labels of a field's choices, by value."""
    return {k: str(v) for k, v in model._meta.get_field(field).flatchoices}


def environment(**options: Any) -> Environment:
    # Imported here: the cells are worked out with this module's formats.
    from steadfast.appointments.cells import slot_cell_of

    options["undefined"] = ChainableUndefined
    options["extensions"] = [*options.get("extensions", []), "jinja2.ext.do"]
    env = Environment(**options)
    env.globals.update(
        url=url,
        id_url=id_url,
        display=display,
        describe_slot=describe_slot,
        slot_cell_of=slot_cell_of,
        static=static,
        can=can,
        open_alert_count=open_alert_count,
        practice_copy_banner=practice_copy_banner,
        downtime_entries=downtime_entries_for,
        downtime_conflict_count=downtime_conflict_count,
        downtime_action_name=lambda action: ACTION_NAMES.get(action, action),
        record_banner=record_banner,
        get_messages=messages.get_messages,
        csrf_token_value=get_token,
        new_booking_key=uuid.uuid4,
    )
    env.filters.update(
        uk_date=uk_date,
        uk_time=uk_time,
        uk_date_time=uk_date_time,
        uk_weekday_date=uk_weekday_date,
        nhs_number=format_nhs_number,
        uk_local_iso=local_iso_date,
    )
    env.globals.update(counted=counted)
    return env
