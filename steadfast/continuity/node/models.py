"""Node tokens (kept by the central server) and the follower's state (kept by a node)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class NodeToken(models.Model):
    """One practice node's credential for the practice's history and staff list.

    Only a SHA-256 of the secret is kept; the token is shown once, when made.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100)
    secret_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["practice_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "name"],
                condition=Q(revoked_at__isnull=True),
                name="one_live_node_token_per_name",
            )
        ]

    def __str__(self) -> str:
        return f"NodeToken {self.pk}"


class FollowerState(models.Model):
    """On a node: where it follows from and how far it has got (one row)."""

    upstream = models.URLField(max_length=300)
    token = models.CharField(max_length=200, help_text="The node token (this directory is 0700)")
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.PROTECT, null=True, related_name="+"
    )
    next_url = models.TextField(blank=True, help_text="The last history page's next link")
    staff_etag = models.CharField(max_length=100, blank=True)
    changes_applied = models.BigIntegerField(default=0)
    last_change = models.CharField(max_length=120, blank=True, help_text="Type/id")
    last_change_at = models.DateTimeField(null=True, help_text="When it changed centrally")
    caught_up_at = models.DateTimeField(
        null=True, help_text="When the node last had every change the server had"
    )
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True)
