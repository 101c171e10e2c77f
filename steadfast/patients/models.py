"""Registered patients and their demographics."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_scopes import ScopedManager

from steadfast.patients.names import listing_name, name_key, postcode_key
from steadfast.patients.ukcore import details


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Not known"


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", "Registered"
    TEMPORARY = "temporary", "Temporary resident"
    DEDUCTED = "deducted", "Deducted"
    DECEASED = "deceased", "Deceased"


class Patient(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT)
    nhs_number = models.CharField("NHS number", max_length=10, null=True, blank=True)
    title = models.CharField(max_length=20, blank=True)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=8)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    registration_status = models.CharField(
        max_length=12, choices=RegistrationStatus, default=RegistrationStatus.REGISTERED
    )
    registered_on = models.DateField()
    is_sensitive = models.BooleanField(
        "sensitive record",
        default=False,
        help_text="Opening it without a care relationship asks for a reason and alerts the manager",
    )
    usual_gp = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="usual_gp_for",
    )
    uk_core = models.JSONField(
        default=dict,
        blank=True,
        help_text="UK Core elements as received (extensions, NHS number verification status,"
        " contacts, languages), given back as sent; see patients/ukcore.py",
    )
    # Search keys, kept in step with the names by save(); indexed for prefix search.
    given_name_key = models.CharField(max_length=100, editable=False, db_index=True)
    family_name_key = models.CharField(max_length=100, editable=False, db_index=True)
    postcode_key = models.CharField(max_length=8, editable=False, db_index=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    registration_ended_on = models.DateField(
        null=True, blank=True, help_text="The day of deduction or death"
    )
    registration_end_reason = models.CharField(max_length=500, blank=True)

    objects = ScopedManager(practice="practice")

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "nhs_number"],
                condition=Q(nhs_number__isnull=False),
                name="one_registration_per_nhs_number",
            ),
            models.CheckConstraint(
                condition=Q(nhs_number__isnull=True) | Q(nhs_number__regex=r"^[0-9]{10}$"),
                name="nhs_number_ten_digits",
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "date_of_birth"], name="patient_dob"),
        ]

    def __str__(self) -> str:
        return f"Patient {self.pk}"  # never a name: str() ends up in logs

    def save(self, *args, **kwargs) -> None:
        self.refresh_search_keys()
        super().save(*args, **kwargs)

    def refresh_search_keys(self) -> None:
        self.given_name_key = name_key(self.given_name)
        self.family_name_key = name_key(self.family_name)
        self.postcode_key = postcode_key(self.postcode)

    @property
    def uk_core_details(self):
        """What the page shows of the UK Core details received (patients/ukcore.py)."""
        return details(self.uk_core or {})

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name.upper()}"

    @property
    def listing_name(self) -> str:
        """`SMITH, John (Mr)`: the order clinical systems list patients in."""
        return listing_name(self.family_name, self.given_name, self.title)

    def age_on(self, day) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


class DetailsChange(models.Model):
    """One change to a patient's details: each field's value before and after, who and when."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="details_changes")
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changes = models.JSONField(help_text='{"field": ["before", "after"]}, dates as ISO text')

    objects = ScopedManager(practice="practice")

    class Meta:
        ordering = ["-changed_at"]
