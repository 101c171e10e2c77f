"""Staff accounts. Every member of staff belongs to one practice and has one role."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    RECEPTIONIST = "receptionist", "Receptionist"
    GP = "gp", "GP"
    NURSE = "nurse", "Practice nurse"
    HCA = "hca", "Healthcare assistant"
    PRACTICE_MANAGER = "practice_manager", "Practice manager"
    ADMIN = "admin", "System administrator"


CLINICAL_ROLES = frozenset({Role.GP, Role.NURSE, Role.HCA})


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=Role, default=Role.RECEPTIONIST)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    title = models.CharField(max_length=20, blank=True, help_text="Dr, Nurse...")

    class Meta:
        ordering = ["last_name", "first_name"]

    @property
    def is_clinician(self) -> bool:
        return self.role in CLINICAL_ROLES

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip() or self.username
        return f"{self.title} {name}".strip() if self.title else name
