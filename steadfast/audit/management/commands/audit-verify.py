"""`steadfast audit-verify`: check every audit chain, its head and its checkpoints; exits non-zero
naming each break and how many entries are missing."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from steadfast.audit import checkpoints
from steadfast.audit.append_only import missing_protection
from steadfast.audit.chain import CANONICAL_SQL, CONTENT_FIELDS, canonical
from steadfast.audit.models import AuditEvent, ChainHead
from steadfast.audit.verification import Head, verify_trail

BATCH = 20_000
SHOWN = 50  # problems listed; the count says how many more


def chain_rows() -> Iterator[tuple]:
    """(id, chain, seq, canonical text, prev_hash, hash) in id order; PostgreSQL builds the
    text itself."""
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT id, chain::text, seq, {CANONICAL_SQL}, prev_hash, hash"
            " FROM audit_auditevent ORDER BY id"
        )
        with transaction.atomic(), connection.chunked_cursor() as cursor:
            cursor.execute(sql)
            while batch := cursor.fetchmany(BATCH):
                yield from batch
    else:
        entries = AuditEvent.objects.order_by("id").values_list("id", *CONTENT_FIELDS, "hash")
        for id_, *content, stored in entries.iterator(BATCH):
            yield id_, str(content[0]), content[1], canonical(*content), content[-1], stored


def chain_heads() -> dict[str, Head]:
    fields = ("chain", "last_seq", "last_event_id", "last_hash", "signature")
    return {str(chain): Head(*rest) for chain, *rest in ChainHead.objects.values_list(*fields)}


def _aware(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Verify the audit trail: each practice's hash chain, its signed head and the signed"
        " checkpoints outside the database. Exits non-zero naming each break."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoints",
            help="checkpoint file to check against (default: AUDIT_CHECKPOINT_FILE)",
        )
        parser.add_argument(
            "--as-of",
            type=_aware,
            help="the time a copy being checked was taken (a backup, a point-in-time restore):"
            " checkpoints written after it are not held against it",
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        checkpoint_file = checkpoints.read(options["checkpoints"], options["as_of"])
        heads = chain_heads()
        rows = chain_rows()
        try:
            report = verify_trail(rows, heads, checkpoint_file, heads_now=chain_heads)
        finally:
            rows.close()  # stopping early must still release the cursor
        if problem := missing_protection(connection):
            report.problems.insert(0, problem)
        seconds = max(time.monotonic() - started, 1e-9)
        rate = f"{report.checked / seconds:,.0f} entries/s"
        if not report.intact:
            shown = report.problems[:SHOWN]
            more = len(report.problems) - len(shown)
            raise CommandError(
                f"audit trail tampered with: {len(report.problems)} problem(s),"
                f" {report.missing:,} {'entry' if report.missing == 1 else 'entries'} missing"
                f" ({report.checked:,} read)\n  "
                + "\n  ".join(shown)
                + (f"\n  ... and {more} more" if more else "")
            )
        if not checkpoint_file.total and report.checked:
            self.stderr.write(
                f"warning: no checkpoints in {checkpoint_file.path}: a chain cut short or wiped"
                " could not be noticed (run `steadfast audit-checkpoint`)"
            )
        self.stdout.write(
            f"audit trail intact: {report.checked:,} entries verified in {report.chains} chain(s),"
            f" against {report.checkpoints:,} checkpoint(s) ({rate})"
        )
