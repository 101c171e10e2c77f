"""Staff accounts. Every member of staff belongs to one practice and has one role."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils.crypto import salted_hmac


class Role(models.TextChoices):
    RECEPTIONIST = "receptionist", "Receptionist"
    GP = "gp", "GP"
    NURSE = "nurse", "Practice nurse"
    HCA = "hca", "Healthcare assistant"
    PRACTICE_MANAGER = "practice_manager", "Practice manager"
    ADMIN = "admin", "System administrator"


CLINICAL_ROLES = frozenset({Role.GP, Role.NURSE, Role.HCA})
# Roles that must pass a second factor (an authenticator app code) after their password.
SECOND_FACTOR_ROLES = frozenset({*CLINICAL_ROLES, Role.PRACTICE_MANAGER, Role.ADMIN})


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=Role, default=Role.RECEPTIONIST)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    title = models.CharField(max_length=20, blank=True, help_text="Dr, Nurse...")
    # Part of every session's auth hash: raising it signs the user out everywhere.
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["last_name", "first_name"]

    @property
    def is_clinician(self) -> bool:
        return self.role in CLINICAL_ROLES

    @property
    def needs_second_factor(self) -> bool:
        return self.role in SECOND_FACTOR_ROLES

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip() or self.username
        return f"{self.title} {name}".strip() if self.title else name

    # Django checks each request's session against this hash, so folding the generation in
    # (beside the password, as Django does) ends every session when either changes.
    def get_session_auth_hash(self) -> str:
        return self._session_auth_hash(secret=None)

    def get_session_auth_fallback_hash(self):
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_auth_hash(secret=secret)

    def _session_auth_hash(self, secret: str | None) -> str:
        value = f"{self.password}:{self.session_generation}"
        return salted_hmac(
            "steadfast.accounts.User.session_auth_hash", value, secret=secret, algorithm="sha256"
        ).hexdigest()


class StaffSession(AbstractBaseSession):
    """A signed-in session, kept in the database (so signing out ends it everywhere at once),
    with its user's id as a column: loading the session brings the user and their practice in
    the same query (steadfast.accounts.sessions)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+"
    )

    @classmethod
    def get_session_store_class(cls):
        from steadfast.accounts.sessions import SessionStore

        return SessionStore
