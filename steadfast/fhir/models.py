"""The change log behind `GET /fhir/_history`: one row per resource, at its latest change.

Rows are written by database triggers (steadfast/fhir/changes.py) in the same transaction as the
change itself, so no write path can forget them. `seq` numbers a practice's changes in commit
order: a follower that has read up to seq N has seen every change committed before N's.
"""

from django.db import models
from django.db.models import Q


class Change(models.Model):
    """The latest change to one resource of one practice (earlier ones are superseded, as in
    CouchDB's changes feed: a follower gets each resource's newest state once)."""

    practice_id = models.UUIDField()
    resource_type = models.CharField(max_length=40)
    resource_id = models.CharField(max_length=64)
    # Taken when the transaction commits (PostgreSQL) or at the write (SQLite: one writer at a
    # time), under the practice's FeedHead row: so seq order is commit order.
    seq = models.BigIntegerField(null=True)
    created = models.BooleanField(default=True, help_text="First seen as a creation (POST)")
    deleted = models.BooleanField(default=False)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice_id", "resource_type", "resource_id"], name="one_change_row"
            ),
            models.UniqueConstraint(fields=["practice_id", "seq"], name="one_change_per_seq"),
        ]
        # What the commit trigger numbers: this transaction's rows, found without a scan.
        indexes = [
            models.Index(
                fields=["practice_id"], condition=Q(seq__isnull=True), name="change_unnumbered"
            )
        ]

    def __str__(self) -> str:
        return f"Change {self.seq} {self.resource_type}/{self.resource_id}"


class FeedHead(models.Model):
    """A practice's last change number. Taking the next number locks this row until commit."""

    practice_id = models.UUIDField(primary_key=True)
    last_seq = models.BigIntegerField(default=0)
