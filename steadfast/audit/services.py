"""Writing to the audit trail, and the break-glass and alert records that go with it."""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from steadfast.audit.chain import GENESIS, entry_hash, head_signature
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
    part_of_a_change = connection.in_atomic_block
    with transaction.atomic():
        if read_only and not part_of_a_change and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        head = ChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None:  # the first entries ever: many may race to start the chain
            ChainHead.objects.get_or_create(pk=1, defaults={"last_hash": GENESIS, "signature": ""})
            head = ChainHead.objects.select_for_update().get(pk=1)
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
            prev_hash=head.last_hash,
        )
        event.hash = entry_hash(
            event.at,
            event.user_id,
            event.username,
            event.role,
            event.practice_id,
            event.patient_id,
            event.action,
            event.detail,
            event.source,
            event.outcome,
            event.prev_hash,
        )
        event.save()
        head.last_event_id, head.last_hash = event.pk, event.hash
        head.signature = head_signature(event.pk, event.hash)
        head.save(update_fields=["last_event_id", "last_hash", "signature"])
    return event


def break_glass(user, patient, reason: str) -> BreakGlass:
    """Open a sensitive record without a care relationship: allowed, recorded, and flagged."""
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
    alert.acknowledged_by = manager
    alert.acknowledged_at = timezone.now()
    alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
    record(
        "acknowledge_alert", user=manager, patient_id=alert.patient_id, detail=f"alert {alert.pk}"
    )
    return alert
