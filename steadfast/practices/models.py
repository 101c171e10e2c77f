"""Practices (organisations), their opening hours and clinicians' rotas."""

import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

ODS_GP_PRACTICE_CODE = re.compile(r"^[A-Z]\d{5}$")


def validate_ods_practice_code(value: str) -> None:
    if not ODS_GP_PRACTICE_CODE.match(value or ""):
        raise ValidationError(
            "Enter a GP practice ODS code: one capital letter then five digits, like A81001"
        )


class DeliveryMode(models.TextChoices):
    FACE_TO_FACE = "face_to_face", "Face to face"
    TELEPHONE = "telephone", "Telephone"
    VIDEO = "video", "Video"
    HOME_VISIT = "home_visit", "Home visit"


class SlotType(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent (on the day)"
    LONG = "long", "Long appointment"
    REVIEW = "review", "Chronic disease review"
    BLOODS = "bloods", "Blood test"
    DRESSING = "dressing", "Dressing"
    IMMUNISATION = "immunisation", "Immunisation"


class NationalSlotCategory(models.TextChoices):
    """The national slot type categories of NHS England's GP appointment data (GPAD)."""

    GENERAL_ROUTINE = "general_routine", "General Consultation Routine"
    GENERAL_ACUTE = "general_acute", "General Consultation Acute"
    TRIAGE = "triage", "Clinical Triage"
    PLANNED_CLINICS = "planned_clinics", "Planned Clinics"
    PLANNED_PROCEDURE = "planned_procedure", "Planned Clinical Procedure"
    UNPLANNED = "unplanned", "Unplanned Clinical Activity"
    MEDICATION_REVIEW = "medication_review", "Structured Medication Review"
    HOME_VISIT = "home_visit", "Home Visit"
    CARE_HOME_VISIT = "care_home_visit", "Care Home Visit"
    WALK_IN = "walk_in", "Walk-in"
    SOCIAL_PRESCRIBING = "social_prescribing", "Social Prescribing Service"
    GROUP = "group", "Group Consultation and Group Education"
    EXTERNAL = "external", "Service provided by organisation external to the practice"
    NON_CONTRACTUAL = "non_contractual", "Non-contractual chargeable work"
    CLINICAL_AUDIT = "clinical_audit", "Patient contact as part of a clinical audit"
    UNMAPPED = "unmapped", "Unmapped"


class ReservedFor(models.TextChoices):
    NONE = "", "Anyone"
    URGENT = "urgent", "Urgent need"
    ONLINE = "online", "Online booking"


class Practice(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    ods_code = models.CharField(
        "ODS code", max_length=6, unique=True, validators=[validate_ods_practice_code]
    )
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100)
    postcode = models.CharField(max_length=8)
    phone = models.CharField(max_length=30, blank=True)
    is_demo = models.BooleanField(
        default=False, help_text="Synthetic demonstration practice: safe to reload or discard."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(ods_code__regex=r"^[A-Z][0-9]{5}$"), name="practice_ods_code_format"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})"


class OpeningHours(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(help_text="0 is Monday")
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "weekday"], name="one_opening_per_day"),
            models.CheckConstraint(condition=Q(opens__lt=F("closes")), name="opens_before_closes"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="opening_weekday_range"),
        ]


class SessionTemplate(models.Model):
    """One weekly session on a clinician's rota; `generate_slots` turns it into bookable slots."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="rota")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_templates"
    )
    weekday = models.PositiveSmallIntegerField(help_text="0 is Monday")
    start_time = models.TimeField()
    end_time = models.TimeField()
    slot_minutes = models.PositiveSmallIntegerField(default=10)
    slot_type = models.CharField(max_length=20, choices=SlotType, default=SlotType.ROUTINE)
    delivery_mode = models.CharField(
        max_length=20, choices=DeliveryMode, default=DeliveryMode.FACE_TO_FACE
    )
    reserved_for = models.CharField(
        max_length=10, choices=ReservedFor, default=ReservedFor.NONE, blank=True
    )
    release_time = models.TimeField(
        null=True, blank=True, help_text="Embargoed until this time on the day, e.g. 08:00"
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    national_category = models.CharField(
        max_length=20, choices=NationalSlotCategory, default=NationalSlotCategory.GENERAL_ROUTINE
    )

    class Meta:
        ordering = ["clinician_id", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_time__lt=F("end_time")), name="session_starts_before_end"
            ),
            models.CheckConstraint(condition=Q(slot_minutes__gte=5), name="slot_at_least_5_min"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="session_weekday_range"),
        ]
