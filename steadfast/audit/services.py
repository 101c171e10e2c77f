"""Writing to the audit trail, and the break-glass and alert records that go with it."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from steadfast.accounts.access import require
from steadfast.audit import checkpoints
from steadfast.audit.chain import (
    CONTENT_FIELDS,
    GENESIS,
    chain_name,
    chain_of,
    entry_hash,
    head_signature,
)
from steadfast.audit.checkpoints import Checkpoint
from steadfast.audit.models import Alert, AuditEvent, BreakGlass, ChainHead, Outcome
from steadfast.audit.origin import current_source

DETAIL_LIMIT = 200  # AuditEvent.detail's length
BREAK_GLASS_LASTS = timedelta(hours=8)  # one working day, then the reason is asked again


class ChainHeadMissing(RuntimeError):
    """A chain has entries but no head row: someone deleted it. Appending would fork the chain,
    so that practice's audited actions fail until a person has looked (audit-verify)."""


class ChainHeadAltered(RuntimeError):
    """A chain head's signature does not match it: it was edited in the database."""


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
    occurred_at: datetime | None = None,
    entered_via: str = "",
    locked_head: tuple | None = None,
) -> AuditEvent | None:
    """Append one entry to its practice's chain (in the caller's transaction when there is one).

    `read_only=True` marks the audit of a page view that changed nothing. On PostgreSQL its
    commit does not wait for the disk flush: a crash of the database server could lose the
    last fraction of a second of such entries (never a partial chain, the entry and the chain
    head commit together), and in exchange reading a record costs no disk wait. Entries for
    changes commit with the change, fully durable. An append that falls due for a checkpoint
    commits durably, then writes the checkpoint.

    A change entered after it happened (from paper, or replayed after downtime) passes
    `occurred_at` and perhaps `entered_via`: the entry's `at` stays the time of entry and its
    detail ends with both, inside the chain's hash.

    `locked_head`: the row `head_lock_sql` returned inside the caller's own statement in this
    transaction (PostgreSQL), so the append needs no statement of its own to lock the head.
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
        detail=_detail(detail, occurred_at, entered_via),
        source=current_source.get(),
        outcome=outcome,
    )
    event.chain = chain_of(event.practice_id)
    quick_commit = read_only and not connection.in_atomic_block
    # No savepoint inside a caller's transaction: a failed append fails the whole change anyway.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            due = _append_postgres(event, quick_commit, locked_head)
        else:
            due = _append(event)
        if due is not None:
            transaction.on_commit(_checkpoint_after_commit(due), robust=True)
    return event


def _detail(detail: str, occurred_at: datetime | None, entered_via: str) -> str:
    """The detail, then ` occurred <UTC time>` and ` via <where>`: the ids give way first, so
    the times are never cut off."""
    suffix = ""
    if occurred_at is not None:
        suffix += f" occurred {occurred_at.astimezone(UTC).isoformat(timespec='seconds')}"
    if entered_via:
        suffix += f" via {entered_via}"
    suffix = suffix[:DETAIL_LIMIT]
    return detail[: DETAIL_LIMIT - len(suffix)] + suffix


def _checkpoint_after_commit(checkpoint: Checkpoint):
    """What writes the checkpoint once the entry it names has committed (never before: a
    rolled-back entry must not be checkpointed). A failure is logged; the entry stands.

    Stamped when written, not when the entry was made: a copy of the database taken between the
    two (a backup) lacks the entry, and `audit-verify --as-of` the copy's time must not expect it.
    """

    def write_audit_checkpoint() -> None:
        checkpoints.write([checkpoint.restamped()])

    return write_audit_checkpoint


def _seal(event: AuditEvent, seq: int, prev_hash: str) -> None:
    event.seq = seq
    event.prev_hash = prev_hash
    event.hash = entry_hash(*(getattr(event, f) for f in CONTENT_FIELDS))


def _checkpoint_due(seq: int, checkpoint_seq: int, checkpoint_at: datetime, now: datetime) -> bool:
    """Every AUDIT_CHECKPOINT_EVERY entries, and on the first entry after AUDIT_CHECKPOINT_INTERVAL
    (or after a checkpoint time in the future: a clock set back, or a head row tampered with)."""
    age = now - checkpoint_at
    return (
        checkpoint_seq == 0
        or seq - checkpoint_seq >= settings.AUDIT_CHECKPOINT_EVERY
        or not timedelta(0) <= age < settings.AUDIT_CHECKPOINT_INTERVAL
    )


def _head_for_update(chain) -> ChainHead:
    head = ChainHead.objects.select_for_update().filter(chain=chain).first()
    if head is None:  # a chain's first entries: many may race to start it
        _, started = ChainHead.objects.get_or_create(
            chain=chain,
            defaults={"last_hash": GENESIS, "signature": head_signature(chain, 0, 0, GENESIS)},
        )
        # Entries are only ever written under their head, so a chain started here that already
        # has entries had its head deleted.
        if started and AuditEvent.objects.filter(chain=chain).exists():
            raise ChainHeadMissing(
                f"the audit chain head of {chain_name(chain)} is missing although the chain has"
                " entries: run `steadfast audit-verify`"
            )
        head = ChainHead.objects.select_for_update().get(chain=chain)
    return head


def _append(event: AuditEvent) -> Checkpoint | None:
    head = _head_for_update(event.chain)
    seq = head.last_seq + 1
    _seal(event, seq, head.last_hash)
    event.save()
    head.last_seq, head.last_event_id, head.last_hash = seq, event.pk, event.hash
    head.signature = head_signature(event.chain, seq, event.pk, event.hash)
    due = _checkpoint_due(seq, head.checkpoint_seq, head.checkpoint_at, event.at)
    if due:
        head.checkpoint_seq, head.checkpoint_at = seq, event.at
    head.save()
    return Checkpoint.of_head(head) if due else None


_LOCK_HEAD_SQL = (
    "SELECT last_seq, last_hash, checkpoint_seq, checkpoint_at,"
    " nextval(pg_get_serial_sequence('audit_auditevent', 'id')), chain{also}"
    " FROM audit_chainhead WHERE chain = %s FOR UPDATE"
)
_QUICK_COMMIT = ", set_config('synchronous_commit', 'off', true)"
_DURABLE_COMMIT = "SELECT set_config('synchronous_commit', 'on', true)"
_APPEND_SQL = (
    "WITH entry AS (INSERT INTO audit_auditevent (id, {columns}, hash) VALUES (%s, {values}, %s))"
    " UPDATE audit_chainhead SET last_seq = %s, last_event_id = %s, last_hash = %s,"
    " signature = %s, checkpoint_seq = %s, checkpoint_at = %s WHERE chain = %s"
).format(columns=", ".join(CONTENT_FIELDS), values=", ".join(["%s"] * len(CONTENT_FIELDS)))


def head_lock_sql(practice_id, only_if: str = "TRUE") -> tuple[str, list]:
    """(a SELECT, its parameters) that locks the practice's chain head and takes the next entry's
    id, for a writer that runs it inside its own statement (one round trip fewer) and passes the
    row to `record(..., locked_head=row)`. `only_if`: an SQL condition (e.g. that the writer's
    change happened) without which nothing is locked. No row: the condition failed, or the chain
    has no head yet; then call `record` without it. PostgreSQL only."""
    sql = _LOCK_HEAD_SQL.format(also="").replace(" FOR UPDATE", f" AND ({only_if}) FOR UPDATE")
    return sql, [chain_of(practice_id)]


def _append_postgres(
    event: AuditEvent, quick_commit: bool, locked_head: tuple | None = None
) -> Checkpoint | None:
    """The same append in two statements (lock the practice's head and take the entry's id;
    insert the entry and move the head together), as every audited page view pays for it.

    `quick_commit`: the audit of a page view that changed nothing commits without waiting for
    the disk flush (see `record`), unless it is due for a checkpoint: a checkpoint must never
    name an entry a crash could still take back.
    """
    lock_head = _LOCK_HEAD_SQL.format(also=_QUICK_COMMIT if quick_commit else "")
    with connection.cursor() as cursor:
        row = locked_head
        if row is None:
            cursor.execute(lock_head, [event.chain])
            row = cursor.fetchone()
        if row is None:
            _head_for_update(event.chain)
            cursor.execute(lock_head, [event.chain])
            row = cursor.fetchone()
        last_seq, prev_hash, checkpoint_seq, checkpoint_at, event.pk, chain = row[:6]
        if str(chain) != str(event.chain):
            raise ValueError("the locked chain head is not this entry's chain")
        seq = last_seq + 1
        _seal(event, seq, prev_hash)
        due = _checkpoint_due(seq, checkpoint_seq, checkpoint_at, event.at)
        if due:
            checkpoint_seq, checkpoint_at = seq, event.at
            if quick_commit:
                cursor.execute(_DURABLE_COMMIT)
        content = [getattr(event, f) for f in CONTENT_FIELDS]
        signature = head_signature(event.chain, seq, event.pk, event.hash)
        moved = (checkpoint_seq, checkpoint_at, event.chain)
        cursor.execute(
            _APPEND_SQL,
            [event.pk, *content, event.hash, seq, event.pk, event.hash, signature, *moved],
        )
    if not due:
        return None
    return Checkpoint.new(event.chain, seq, event.pk, event.hash)


def checkpoint_chains(*, every_chain: bool = False) -> list[Checkpoint]:
    """Checkpoint each chain that has grown since its last checkpoint (all, with `every_chain`:
    after the checkpoint file was rotated). The commit is durable, so every entry a checkpoint
    names is on disk before the checkpoint is written."""
    now = timezone.now()
    with transaction.atomic():
        heads = ChainHead.objects.select_for_update().filter(last_seq__gt=0).order_by("chain")
        due = [h for h in heads if every_chain or h.last_seq != h.checkpoint_seq]
        forged = [h for h in due if not _genuine(h)]
        if forged:
            raise ChainHeadAltered(
                "refusing to checkpoint altered chain heads ("
                + ", ".join(chain_name(h.chain) for h in forged)
                + "): run `steadfast audit-verify`"
            )
        for head in due:
            head.checkpoint_seq, head.checkpoint_at = head.last_seq, now
        ChainHead.objects.bulk_update(due, ["checkpoint_seq", "checkpoint_at"])
    written = [Checkpoint.of_head(head) for head in due]
    checkpoints.write(written)
    return written


def _genuine(head: ChainHead) -> bool:
    expected = head_signature(head.chain, head.last_seq, head.last_event_id, head.last_hash)
    return head.signature == expected


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
