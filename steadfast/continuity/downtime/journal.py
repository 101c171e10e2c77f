"""The downtime journal on a practice node: each write made during downtime working is also a
journal entry, written in the same transaction as the write itself.

The writing services carry `@journaled("action")`. Anywhere but a node in downtime the decorator
does nothing. On a node in downtime it runs the service as usual (same role, practice and
restricted-record rules) and records, in one transaction: the action and its arguments (objects
by id, codes by code), the acting user, the real time by the node's clock, the version of each
record it was based on, and every row it created (so the node can drop its own rows once the
central server has the entries, and take the central copy again). A service called by another
journaled service (a consultation finishing its appointment) belongs to the outer entry.
"""

import inspect
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_save
from django.utils import timezone

CLINICAL_ACTIONS = frozenset(
    {
        "save_consultation",
        "add_problem",
        "record_observation",
        "prescribe",
        "record_allergy",
        "record_no_known_allergies",
    }
)
# The apps whose rows a downtime write makes on the node (not its own audit trail: that stays).
RECORD_APPS = frozenset({"appointments", "patients", "records"})
_created_rows: ContextVar[list | None] = ContextVar("downtime_rows", default=None)


def open_session():
    """The node's current downtime session, or None (not a node, or not in downtime)."""
    if not settings.NODE_MODE:
        return None
    from steadfast.continuity.downtime.models import DowntimeSession

    return DowntimeSession.objects.filter(ended_at__isnull=True).order_by("-started_at").first()


# --- plain JSON of the services' arguments ---------------------------------------------------


def plain(value):
    """A service argument as JSON: model rows by primary key, codes with their system."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "system") and hasattr(value, "code") and hasattr(value, "term"):
        return {"system": value.system, "code": value.code, "term": value.term}
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {name: plain(getattr(value, name)) for name in value.__dataclass_fields__}
    return str(value)


def _version(appointment) -> int:
    from steadfast.appointments.models import Appointment

    return Appointment.objects.filter(pk=appointment.pk).values_list("version", flat=True).get()


def _appointment_call(a: dict, *fields: str) -> tuple:
    appointment = a["appointment"]
    data = {"appointment": str(appointment.pk)} | {f: plain(a[f]) for f in fields}
    return a["actor"], data, {"appointment": _version(appointment)}, appointment.patient_id


def _temporary(details: dict) -> dict:
    # A node cannot see the national register or the main one: whoever it registers is a
    # temporary patient until a person links them to a registered one (or accepts them).
    from steadfast.patients.models import RegistrationStatus

    details["registration_status"] = RegistrationStatus.TEMPORARY
    return plain(details)


def _record_call(a: dict, user: str, **data) -> tuple:
    return a[user], {"patient": str(a["patient"].pk)} | plain(data), {}, a["patient"].pk


# action -> bound arguments -> (author, data, bases, patient id)
DESCRIBE: dict[str, Callable[[dict], tuple]] = {
    "book_appointment": lambda a: (
        a["booked_by"],
        {"slot": str(a["slot_id"]), "patient": str(a["patient"].pk), "reason": a["reason"]},
        {},
        a["patient"].pk,
    ),
    "cancel_appointment": lambda a: _appointment_call(a, "cancelled_by", "reason"),
    "reschedule_appointment": lambda a: (
        a["actor"],
        {"appointment": str(a["appointment"].pk), "slot": str(a["new_slot_id"])},
        {"appointment": _version(a["appointment"])},
        a["appointment"].patient_id,
    ),
    "change_status": lambda a: _appointment_call(a, "to_status"),
    "amend_appointment": lambda a: _appointment_call(a, "reason", "comment"),
    "register_patient": lambda a: (
        a["registered_by"],
        {"details": _temporary(a["details"])},
        {},
        None,
    ),
    "save_consultation": lambda a: (
        a["clinician"],
        {
            "patient": str(a["patient"].pk),
            "appointment": str(a["appointment"].pk) if a["appointment"] else None,
            "note": plain(a["note"]),
            "allergy_confirmed": a["allergy_confirmed"],
            "override_reason": a["override_reason"],
        },
        {"appointment": _version(a["appointment"])} if a["appointment"] else {},
        a["patient"].pk,
    ),
    "add_problem": lambda a: _record_call(a, "user", problem=a["new"]),
    "record_observation": lambda a: _record_call(a, "user", observation=a["new"]),
    "prescribe": lambda a: _record_call(
        a,
        "prescriber",
        medication=a["new"],
        allergy_confirmed=a["allergy_confirmed"],
        override_reason=a["override_reason"],
    ),
    "record_allergy": lambda a: _record_call(
        a,
        "user",
        substance=a["substance"],
        reaction=a["reaction"],
        reaction_text=a["reaction_text"],
        severity=a["severity"],
        certainty=a["certainty"],
        note=a["note"],
    ),
    "record_no_known_allergies": lambda a: _record_call(a, "user", concept=a["concept"]),
}
# What later entries may refer to, by the id it has on the node.
MADE = {"book_appointment": "appointment", "register_patient": "patient"}
MADE |= {"save_consultation": "consultation"}


def journaled(action: str) -> Callable:
    """Service decorator: on a node in downtime, the write is also a journal entry."""
    describe = DESCRIBE[action]

    def decorator(service: Callable) -> Callable:
        signature = inspect.signature(service)

        @wraps(service)
        def wrapped(*args, **kwargs):
            if not settings.NODE_MODE or _created_rows.get() is not None:
                return service(*args, **kwargs)
            session = open_session()
            if session is None:  # following: the node's pages are read-only (node/mode.py)
                return service(*args, **kwargs)
            call = signature.bind(*args, **kwargs)
            call.apply_defaults()
            rows: list = []
            token = _created_rows.set(rows)
            try:
                with transaction.atomic():
                    author, data, bases, patient_id = describe(call.arguments)
                    occurred_at = call.arguments.get("occurred_at") or timezone.now()
                    result = service(*call.args, **call.kwargs)
                    _write_entry(
                        session, action, author, data, bases, patient_id, occurred_at, result, rows
                    )
            finally:
                _created_rows.reset(token)
            return result

        wrapped.journal_action = action
        return wrapped

    return decorator


def _write_entry(session, action, author, data, bases, patient_id, occurred_at, result, rows):
    from steadfast.continuity.downtime.models import JournalEntry

    made = {MADE[action]: str(result.pk)} if action in MADE else {}
    # Rows inserted without a save() (booking's single round trip on PostgreSQL) send no
    # post_save: what the entry made is certainly among its rows.
    for pk in made.values():
        row = [type(result)._meta.label, pk]
        if row not in rows:
            rows.append(row)
    if action == "register_patient":
        patient_id = result.pk
    JournalEntry.objects.create(
        session=session,
        action=action,
        data=data,
        author=author,
        occurred_at=occurred_at,
        bases=bases,
        made=made,
        rows=rows,
        patient_id=patient_id,
    )


# --- the rows a downtime entry created --------------------------------------------------------


def _note_created(sender, instance, created, raw=False, **kwargs) -> None:
    rows = _created_rows.get()
    if rows is not None and created and not raw and sender._meta.app_label in RECORD_APPS:
        rows.append([sender._meta.label, str(instance.pk)])


def _note_linked(sender, instance, action, pk_set, **kwargs) -> None:
    rows = _created_rows.get()
    if rows is not None and action == "post_add" and pk_set:
        rows.append(["m2m", sender._meta.label, str(instance.pk), [str(pk) for pk in pk_set]])


def connect_row_capture() -> None:
    # Connected everywhere (they act only inside a journalled call, which only a node makes).
    post_save.connect(_note_created, dispatch_uid="downtime-created-rows")
    m2m_changed.connect(_note_linked, dispatch_uid="downtime-linked-rows")
