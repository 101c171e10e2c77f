"""Reads of the audit trail and of who may open a sensitive record."""

from datetime import date

from django.utils import timezone

from steadfast.appointments.models import Appointment, AppointmentStatus
from steadfast.appointments.queries import day_bounds
from steadfast.audit.models import Alert, AuditEvent, BreakGlass


def has_care_relationship(user, patient) -> bool:
    """The user is the patient's usual GP, or the clinician of one of their appointments."""
    if patient.usual_gp_id == user.pk:
        return True
    return (
        Appointment.objects.filter(patient=patient, slot__clinician=user)
        .exclude(status=AppointmentStatus.CANCELLED)
        .exists()
    )


def has_current_break_glass(user, patient) -> bool:
    return BreakGlass.objects.filter(
        user=user, patient=patient, expires_at__gt=timezone.now()
    ).exists()


def needs_break_glass(user, patient) -> bool:
    """A restricted (sensitive) record the user has no care relationship with and no current
    break-glass for: reading or changing it asks for a reason first."""
    return (
        patient.is_sensitive
        and not has_care_relationship(user, patient)
        and not has_current_break_glass(user, patient)
    )


def record_access_log(patient, limit: int = 50) -> list[AuditEvent]:
    """Who has looked at or changed this patient's record, newest first."""
    return list(AuditEvent.objects.filter(patient_id=patient.pk).order_by("-id")[:limit])


def search_audit(
    practice,
    *,
    patient_id=None,
    user_id=None,
    first_day: date | None = None,
    last_day: date | None = None,
    limit: int = 200,
) -> list[AuditEvent]:
    events = AuditEvent.objects.filter(practice_id=practice.pk)
    if patient_id:
        events = events.filter(patient_id=patient_id)
    if user_id:
        events = events.filter(user_id=user_id)
    if first_day:
        events = events.filter(at__gte=day_bounds(first_day)[0])
    if last_day:
        events = events.filter(at__lt=day_bounds(last_day)[1])
    return list(events.order_by("-id")[:limit])


def alert_for_practice(practice, alert_id) -> Alert:
    """The practice's alert, or Alert.DoesNotExist."""
    return Alert.objects.get(pk=alert_id, practice=practice)


def open_alerts(practice) -> list[Alert]:
    return list(
        Alert.objects.filter(practice=practice, acknowledged_at__isnull=True)
        .select_related("patient", "user")
        .order_by("-raised_at")
    )


def open_alert_count(practice) -> int:
    return Alert.objects.filter(practice=practice, acknowledged_at__isnull=True).count()
