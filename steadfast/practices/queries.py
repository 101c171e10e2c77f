"""Reads about the practice and its staff."""

from django.contrib.auth import get_user_model

from steadfast.accounts.models import CLINICAL_ROLES, Role
from steadfast.practices.models import SessionTemplate
from steadfast.practices.services import slot_times


def practice_gps(practice) -> list:
    return list(get_user_model().objects.filter(practice=practice, role=Role.GP, is_active=True))


def practice_clinicians(practice) -> list:
    """Clinicians with a rota: GPs, nurses and healthcare assistants who can sign in."""
    return list(
        get_user_model()
        .objects.filter(practice=practice, role__in=CLINICAL_ROLES, is_active=True)
        .order_by("role", "last_name")
    )


def rota(practice) -> list[SessionTemplate]:
    """Every weekly session, by clinician, day and time, with how many slots it makes."""
    sessions = list(
        SessionTemplate.objects.filter(practice=practice)
        .select_related("clinician")
        .order_by("clinician__last_name", "clinician_id", "weekday", "start_time")
    )
    for s in sessions:
        s.slot_count = len(slot_times(s.start_time, s.end_time, s.slot_minutes))
    return sessions


def rota_session(practice, session_id) -> SessionTemplate:
    return SessionTemplate.objects.select_related("clinician").get(practice=practice, pk=session_id)
