"""Downtime on a node (sessions, the journal) and, on the central server, the entries received
from nodes with their outcome, and which central row each node-made row became."""

import uuid

from django.conf import settings
from django.db import models


class DowntimeSession(models.Model):
    """On a node: one spell of downtime working, from start to the end of reconciliation."""

    started_at = models.DateTimeField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, help_text="Downtime working stopped")
    reconciled_at = models.DateTimeField(null=True, help_text="Every entry had an outcome")

    class Meta:
        ordering = ["started_at"]


class JournalEntry(models.Model):
    """On a node: one write made during downtime, as the central server will be asked to make it.

    `seq` is the order to replay in (never the node's clock, which may be wrong)."""

    seq = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(DowntimeSession, on_delete=models.PROTECT, related_name="entries")
    action = models.CharField(max_length=40)
    data = models.JSONField(help_text="The service's arguments, objects by id, codes by code")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(help_text="When it happened, by the node's clock")
    bases = models.JSONField(default=dict, help_text="Version of each record it was based on")
    made = models.JSONField(default=dict, help_text="What it created on the node, by kind")
    rows = models.JSONField(default=list, help_text="Every node row it created [label, pk]")
    patient_id = models.UUIDField(null=True)
    outcome = models.CharField(max_length=10, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["seq"]


class EntryStatus(models.TextChoices):
    MERGED = "merged", "Merged"
    CONFLICT = "conflict", "Needs a person"
    RESOLVED = "resolved", "Resolved"
    SET_ASIDE = "set_aside", "Set aside"


class ReceivedEntry(models.Model):
    """On the central server: one node's downtime entry, received once (its UUID is the key of
    the conditional create), with what became of it. Never deleted."""

    id = models.UUIDField(primary_key=True, help_text="The entry's UUID, made on the node")
    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    node_name = models.CharField(max_length=100)
    seq = models.BigIntegerField(help_text="Its place in the node's journal")
    action = models.CharField(max_length=40)
    data = models.JSONField()
    bases = models.JSONField(default=dict)
    made = models.JSONField(default=dict)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(help_text="When it happened, by the node's clock")
    received_at = models.DateTimeField(auto_now_add=True)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, null=True, related_name="+"
    )
    clinical = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=EntryStatus)
    conflict = models.CharField(max_length=20, blank=True, help_text="What kind of conflict")
    reason = models.TextField(blank=True, help_text="Why it needs a person, in plain words")
    resolution = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["practice_id", "node_name", "seq"]
        indexes = [models.Index(fields=["practice", "status"])]
        verbose_name_plural = "received entries"


class NodeObject(models.Model):
    """A row a node made in downtime (a booking, a temporary patient, a consultation) and the
    central row it became; None while its entry waits on the worklist."""

    node_id = models.UUIDField(primary_key=True)
    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20)
    entry = models.ForeignKey(ReceivedEntry, on_delete=models.PROTECT, related_name="node_objects")
    central_id = models.UUIDField(null=True)
