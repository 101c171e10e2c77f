"""Slots on clinicians' books and the appointments booked into them.

A slot never holds two live appointments: a partial unique index says so in the database,
and booking claims the slot with a conditional UPDATE so concurrent bookers cannot both win.
A booking may carry the client's idempotency key, unique per practice, so a request retried after
a dropped connection returns the first booking instead of making a second.
Appointment history keeps both when a thing happened and when it was recorded, so entries made
on paper during an outage can be merged later with their true times.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django_scopes import ScopedManager
from uuid_utils.compat import uuid7

from steadfast.practices.models import DeliveryMode, NationalSlotCategory, ReservedFor, SlotType


class SlotStatus(models.TextChoices):
    FREE = "free", "Free"
    BOOKED = "booked", "Booked"
    BLOCKED = "blocked", "Blocked"


class Slot(models.Model):
    # Time-ordered (UUIDv7): the slots a rota run makes for a day sit together in every index
    # keyed by slot, so reading a day's appointments touches a few index pages, not one each
    # (ADR 0024).
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT)
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="slots"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    slot_type = models.CharField(max_length=20, choices=SlotType, default=SlotType.ROUTINE)
    delivery_mode = models.CharField(
        max_length=20, choices=DeliveryMode, default=DeliveryMode.FACE_TO_FACE
    )
    reserved_for = models.CharField(
        max_length=10, choices=ReservedFor, default=ReservedFor.NONE, blank=True
    )
    embargoed_until = models.DateTimeField(null=True, blank=True)
    national_category = models.CharField(
        max_length=20, choices=NationalSlotCategory, default=NationalSlotCategory.GENERAL_ROUTINE
    )
    status = models.CharField(max_length=10, choices=SlotStatus, default=SlotStatus.FREE)
    session_template = models.ForeignKey(
        "practices.SessionTemplate", on_delete=models.SET_NULL, null=True, blank=True
    )

    objects = ScopedManager(practice="practice")

    class Meta:
        ordering = ["start", "clinician_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinician", "start"], name="one_slot_per_clinician_start"
            ),
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="slot_starts_before_end"),
        ]
        indexes = [models.Index(fields=["practice", "start"], name="slot_practice_start")]

    def __str__(self) -> str:
        return f"Slot {self.pk} {self.start:%Y-%m-%d %H:%M}"

    def is_embargoed(self, now) -> bool:
        return self.embargoed_until is not None and self.embargoed_until > now


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    ARRIVED = "arrived", "Arrived"
    IN_PROGRESS = "in_progress", "In progress"
    FINISHED = "finished", "Finished"
    DID_NOT_ATTEND = "did_not_attend", "Did not attend"
    CANCELLED = "cancelled", "Cancelled"


LIVE_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.IN_PROGRESS,
    AppointmentStatus.FINISHED,
    AppointmentStatus.DID_NOT_ATTEND,
)


# The system of the keys Steadfast's own pages make (and of a FHIR client's Idempotency-Key).
BOOKING_KEY_SYSTEM = "urn:steadfast:booking"


def booking_key(value, system: str = BOOKING_KEY_SYSTEM) -> str:
    """An idempotency key as Appointment stores it: `system|value`, as a FHIR identifier token."""
    return f"{system}|{value}"


class CancelledBy(models.TextChoices):
    PATIENT = "patient", "Patient"
    PRACTICE = "practice", "Practice"


class Appointment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT)
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="appointments"
    )
    status = models.CharField(
        max_length=16, choices=AppointmentStatus, default=AppointmentStatus.BOOKED
    )
    reason = models.CharField(max_length=500, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    booked_at = models.DateTimeField(help_text="When the booking was made")
    recorded_at = models.DateTimeField(auto_now_add=True, help_text="When it reached this system")
    status_changed_at = models.DateTimeField()
    cancelled_by = models.CharField(max_length=10, choices=CancelledBy, blank=True)
    cancellation_reason = models.CharField(max_length=500, blank=True)
    comment = models.CharField(max_length=1000, blank=True, help_text="Notes for the practice")
    # Raised by every change: the API's ETag, so two systems cannot overwrite each other.
    version = models.PositiveIntegerField(default=1, editable=False)
    # The key the client made for this booking ("system|value"): a retried request with the same
    # key gets this appointment back instead of booking again.
    idempotency_key = models.CharField(max_length=300, null=True, blank=True, editable=False)

    objects = ScopedManager(practice="practice")

    class Meta:
        ordering = ["slot__start"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="one_booking_per_idempotency_key",
            ),
            # On PostgreSQL its index also carries id, status and patient, so the day view
            # reads a slot's live appointment from the index alone (migration 0006, ADR 0024).
            models.UniqueConstraint(
                fields=["slot"],
                condition=~Q(status="cancelled"),
                name="one_live_appointment_per_slot",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancelled_by=""),
                name="cancellation_says_by_whom",
            ),
        ]
        indexes = [models.Index(fields=["patient", "status"], name="appointment_patient")]

    def __str__(self) -> str:
        return f"Appointment {self.pk}"


class AppointmentEvent(models.Model):
    """One change of an appointment's status: who, what, when it happened, when recorded."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, choices=AppointmentStatus, blank=True)
    to_status = models.CharField(max_length=16, choices=AppointmentStatus)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=500, blank=True)
    back_entered = models.BooleanField(
        default=False, help_text="Entered after it happened, from paper or after downtime"
    )
    entered_via = models.CharField(
        max_length=100, blank=True, help_text="Where it was made, e.g. a node during downtime"
    )

    class Meta:
        ordering = ["occurred_at", "recorded_at"]
