"""Writing to the audit trail, and the break-glass and alert records that go with it."""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from steadfast.accounts.access import require
from steadfast.audit.chain import CONTENT_FIELDS, GENESIS, entry_hash, head_signature
from steadfast.audit.models import Alert, AuditEvent, BreakGlass, ChainHead, Outcome
from steadfast.audit.origin import current_source

BREAK_GLASS_LASTS = timedelta(hours=8)  # one working day, then the reason is asked again


def record(
    action: str,
    *,
    user=None,
    patient_id=None,
    practice_id=None,
    detail: str = "",
    outcome: str = Outcome.ALLOWED,
    username: str = "",
    read_only: bool = False,
) -> AuditEvent | None:
    """Append one entry to the chain (in the caller's transaction when there is one).

    `read_only=True` marks the audit of a page view that changed nothing. On PostgreSQL its
    commit does not wait for the disk flush: a crash of the database server could lose the
    last fraction of a second of such entries (never a partial chain, the entry and the chain
    head commit together), and in exchange reading a record costs no disk wait. Entries for
    changes commit with the change, fully durable.
    """
    if not settings.AUDIT_ENABLED:
        return None
    authenticated = user is not None and user.is_authenticated
    event = AuditEvent(
        at=timezone.now(),
        user_id=user.pk if authenticated else None,
        username=user.username if authenticated else username[:150],
        role=user.role if authenticated else "",
        practice_id=practice_id or (user.practice_id if authenticated else None),
        patient_id=patient_id,
        action=action,
        detail=detail[:200],
        source=current_source.get(),
        outcome=outcome,
    )
    quick_commit = read_only and not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _append_postgres(event, quick_commit)
        else:
            _append(event)
    return event


def _seal(event: AuditEvent, prev_hash: str) -> None:
    event.prev_hash = prev_hash
    event.hash = entry_hash(*(getattr(event, f) for f in CONTENT_FIELDS))


def _head_for_update() -> ChainHead:
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:  # the first entries ever: many may race to start the chain
        ChainHead.objects.get_or_create(pk=1, defaults={"last_hash": GENESIS, "signature": ""})
        head = ChainHead.objects.select_for_update().get(pk=1)
    return head


def _append(event: AuditEvent) -> None:
    head = _head_for_update()
    _seal(event, head.last_hash)
    event.save()
    head.last_event_id, head.last_hash = event.pk, event.hash
    head.signature = head_signature(event.pk, event.hash)
    head.save(update_fields=["last_event_id", "last_hash", "signature"])


_LOCK_HEAD_SQL = (
    "SELECT last_hash, nextval(pg_get_serial_sequence('audit_auditevent', 'id')){also}"
    " FROM audit_chainhead WHERE id = 1 FOR UPDATE"
)
_QUICK_COMMIT = ", set_config('synchronous_commit', 'off', true)"
_APPEND_SQL = (
    "WITH entry AS (INSERT INTO audit_auditevent (id, {columns}, hash) VALUES (%s, {values}, %s))"
    " UPDATE audit_chainhead SET last_event_id = %s, last_hash = %s, signature = %s WHERE id = 1"
).format(columns=", ".join(CONTENT_FIELDS), values=", ".join(["%s"] * len(CONTENT_FIELDS)))


def _append_postgres(event: AuditEvent, quick_commit: bool) -> None:
    """The same append in two statements (lock the head and take the entry's id; insert the
    entry and move the head together), as every audited page view pays for it.

    `quick_commit`: the audit of a page view that changed nothing commits without waiting for
    the disk flush (see `record`).
    """
    lock_head = _LOCK_HEAD_SQL.format(also=_QUICK_COMMIT if quick_commit else "")
    with connection.cursor() as cursor:
        cursor.execute(lock_head)
        row = cursor.fetchone()
        if row is None:
            _head_for_update()
            cursor.execute(lock_head)
            row = cursor.fetchone()
        prev_hash, event.pk = row[:2]
        _seal(event, prev_hash)
        content = [getattr(event, f) for f in CONTENT_FIELDS]
        signature = head_signature(event.pk, event.hash)
        cursor.execute(
            _APPEND_SQL, [event.pk, *content, event.hash, event.pk, event.hash, signature]
        )


def break_glass(user, patient, reason: str) -> BreakGlass:
    """Open a sensitive record without a care relationship: allowed, recorded, and flagged."""
    require(user, "break_glass", practice_id=patient.practice_id)
    now = timezone.now()
    with transaction.atomic():
        access = BreakGlass.objects.create(
            user=user,
            patient=patient,
            reason=reason.strip(),
            at=now,
            expires_at=now + BREAK_GLASS_LASTS,
        )
        Alert.objects.create(
            practice_id=patient.practice_id,
            patient=patient,
            user=user,
            reason=reason.strip(),
            raised_at=now,
        )
        record("break_glass", user=user, patient_id=patient.pk, detail=f"break-glass {access.pk}")
    return access


def acknowledge_alert(alert: Alert, manager) -> Alert:
    require(manager, "view_audit", practice_id=alert.practice_id)
    alert.acknowledged_by = manager
    alert.acknowledged_at = timezone.now()
    alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
    record(
        "acknowledge_alert", user=manager, patient_id=alert.patient_id, detail=f"alert {alert.pk}"
    )
    return alert
