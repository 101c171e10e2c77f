"""One audit chain per practice (and a system chain for entries of no practice), each entry
numbered in its chain, each chain with its own signed head.

Existing entries are first verified as the single chain they were (this refuses to migrate a
trail that was tampered with), then sealed again into their practices' chains; a system entry
records where the old chain ended. Not reversible: the old chain's hashes are gone.
"""

import hashlib
import hmac
import uuid
from datetime import UTC

import django.utils.timezone
from django.db import migrations, models

# Sealing again follows the chain's current definition, whatever release runs this.
from steadfast.audit.chain import CONTENT_FIELDS, GENESIS, entry_hash, head_signature, key

SYSTEM_CHAIN = uuid.UUID(int=0)
LEGACY_FIELDS = (
    "at", "user_id", "username", "role", "practice_id", "patient_id", "action", "detail",
    "source", "outcome", "prev_hash",
)  # fmt: skip
BATCH = 5000


def _legacy_hash(secret: bytes, at, *rest) -> str:
    values = [at.astimezone(UTC).isoformat(timespec="microseconds")]
    values += ["" if v is None else str(v) for v in rest]
    return hmac.new(secret, "\x1f".join(values).encode(), hashlib.sha256).hexdigest()


def _verify_legacy_chain(AuditEvent, LegacyChainHead, secret: bytes) -> tuple[int, str]:
    prev, count = GENESIS, 0
    for event in AuditEvent.objects.order_by("id").iterator(BATCH):
        content = [getattr(event, f) for f in LEGACY_FIELDS]
        if event.prev_hash != prev or _legacy_hash(secret, *content) != event.hash:
            raise RuntimeError(
                f"the audit chain is broken at entry {event.pk}: run the previous release's"
                " `steadfast audit-verify` and resolve it before migrating"
            )
        prev, count = event.hash, count + 1
    head = LegacyChainHead.objects.filter(pk=1).first()
    if count and (head is None or head.last_hash != prev):
        raise RuntimeError("entries were deleted from the end of the audit chain: not migrating")
    return count, prev


def split_into_practice_chains(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ChainHead = apps.get_model("audit", "ChainHead")
    LegacyChainHead = apps.get_model("audit", "LegacyChainHead")
    if not AuditEvent.objects.exists():
        return
    secret = key()
    count, legacy_head = _verify_legacy_chain(AuditEvent, LegacyChainHead, secret)
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_append_only")
    heads: dict[uuid.UUID, tuple[int, int, str]] = {}  # chain: (seq, id, hash)
    batch = []
    for event in AuditEvent.objects.order_by("id").iterator(BATCH):
        event.chain = event.practice_id or SYSTEM_CHAIN
        seq, _, prev = heads.get(event.chain, (0, 0, GENESIS))
        event.seq, event.prev_hash = seq + 1, prev
        event.hash = entry_hash(*(getattr(event, f) for f in CONTENT_FIELDS))
        heads[event.chain] = (event.seq, event.pk, event.hash)
        batch.append(event)
        if len(batch) == BATCH:
            AuditEvent.objects.bulk_update(batch, ["chain", "seq", "prev_hash", "hash"])
            batch = []
    AuditEvent.objects.bulk_update(batch, ["chain", "seq", "prev_hash", "hash"])
    if postgres:
        schema_editor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_append_only")
    seq, _, prev = heads.get(SYSTEM_CHAIN, (0, 0, GENESIS))
    note = AuditEvent(
        chain=SYSTEM_CHAIN,
        seq=seq + 1,
        at=django.utils.timezone.now(),
        action="audit_chains_split",
        detail=f"one chain of {count} entries, ending {legacy_head}, split per practice",
        outcome="allowed",
        prev_hash=prev,
    )
    note.hash = entry_hash(*(getattr(note, f) for f in CONTENT_FIELDS))
    note.save()
    heads[SYSTEM_CHAIN] = (note.seq, note.pk, note.hash)
    ChainHead.objects.bulk_create(
        ChainHead(
            chain=chain,
            last_seq=seq,
            last_event_id=id_,
            last_hash=hash_,
            signature=head_signature(chain, seq, id_, hash_),
        )
        for chain, (seq, id_, hash_) in heads.items()
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]

    operations = [
        migrations.RenameModel("ChainHead", "LegacyChainHead"),
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                ("chain", models.UUIDField(primary_key=True, serialize=False)),
                ("last_seq", models.BigIntegerField(default=0)),
                ("last_event_id", models.BigIntegerField(default=0)),
                ("last_hash", models.CharField(max_length=64)),
                ("signature", models.CharField(max_length=64)),
                ("checkpoint_seq", models.BigIntegerField(default=0)),
                (
                    "checkpoint_at",
                    models.DateTimeField(default=django.utils.timezone.now),
                ),
            ],
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain",
            field=models.UUIDField(null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunPython(split_into_practice_chains, elidable=False),
        migrations.AlterField(
            model_name="auditevent",
            name="chain",
            field=models.UUIDField(
                help_text="The practice's id, or the system chain's (all zeros)"
            ),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(help_text="Place in its chain: 1, 2, 3..."),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                fields=("chain", "seq"), name="audit_one_entry_per_place"
            ),
        ),
        migrations.DeleteModel("LegacyChainHead"),
    ]
