"""The audit trail: an append-only, hash-chained log of every access to patient data.

Each practice has its own chain (entries of no practice go to the system chain). Each entry
carries its place in its chain (`seq`) and an HMAC of its own content and of the previous entry's
hash, so altering, inserting, deleting or reordering rows breaks the chain where it happened;
signed checkpoints kept outside the database catch a chain cut short or wiped
(`steadfast audit-verify`). A trigger refuses UPDATE and DELETE on the table.
"""

from django.db import models
from django.utils import timezone


class Outcome(models.TextChoices):
    ALLOWED = "allowed", "Allowed"
    DENIED = "denied", "Denied"
    FAILED = "failed", "Failed"


class AuditEvent(models.Model):
    chain = models.UUIDField(help_text="The practice's id, or the system chain's (all zeros)")
    seq = models.BigIntegerField(help_text="Place in its chain: 1, 2, 3...")
    at = models.DateTimeField(default=timezone.now)
    user_id = models.BigIntegerField(null=True)
    username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, blank=True)
    practice_id = models.UUIDField(null=True)
    patient_id = models.UUIDField(null=True)
    action = models.CharField(max_length=40)
    detail = models.CharField(max_length=200, blank=True, help_text="Ids only, never names")
    source = models.CharField(max_length=45, blank=True, help_text="IP address")
    outcome = models.CharField(max_length=8, choices=Outcome, default=Outcome.ALLOWED)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["patient_id", "at"], name="audit_patient_at"),
            models.Index(fields=["practice_id", "at"], name="audit_practice_at"),
            models.Index(fields=["user_id", "at"], name="audit_user_at"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_one_entry_per_place")
        ]

    def __str__(self) -> str:
        return f"AuditEvent {self.pk} {self.action}"


class ChainHead(models.Model):
    """One row per chain: its newest entry, signed. Appending locks it, so a practice's entries
    chain in order while other practices append beside it. `checkpoint_*` say when the chain
    was last anchored outside the database (see audit/checkpoints.py)."""

    chain = models.UUIDField(primary_key=True)
    last_seq = models.BigIntegerField(default=0)
    last_event_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)
    signature = models.CharField(max_length=64)
    checkpoint_seq = models.BigIntegerField(default=0)
    checkpoint_at = models.DateTimeField(default=timezone.now)


class BreakGlass(models.Model):
    """A member of staff opened a sensitive record with no care relationship, giving a reason."""

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "patient", "expires_at"], name="breakglass_lookup")]


class Alert(models.Model):
    """Something the practice manager must look at, such as a break-glass access."""

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT)
    kind = models.CharField(max_length=20, default="break_glass")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
