"""Rotas (manage_rotas): weekly sessions with a preview of their slots; saving brings the free
future slots into line and never touches a booked one."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from steadfast.accounts.models import Role
from steadfast.appointments import services as appointments
from steadfast.appointments.models import Slot
from steadfast.practices import services as rotas
from steadfast.practices.models import SessionTemplate
from tests.factories import GPFactory, PatientFactory, UserFactory, force_login_verified

pytestmark = pytest.mark.django_db


def session_fields(gp, **overrides):
    return {
        "clinician": gp,
        "weekday": (timezone.localdate() + timedelta(days=1)).weekday(),
        "start_time": time(9),
        "end_time": time(10),
        "slot_minutes": 10,
        "slot_type": "routine",
        "delivery_mode": "face_to_face",
        "reserved_for": "",
        "release_time": None,
        "valid_from": None,
        "valid_until": None,
        "national_category": "general_routine",
    } | overrides


@pytest.fixture
def manager():
    return UserFactory(role=Role.PRACTICE_MANAGER)


def test_the_page_previews_a_sessions_slots_before_saving(client, manager):
    gp = GPFactory(practice=manager.practice)
    force_login_verified(client, manager)
    form = {k: v for k, v in session_fields(gp).items() if v is not None} | {"clinician": gp.pk}
    form |= {"start_time": "09:00", "end_time": "10:00", "preview": "1"}
    page = client.post("/rotas/", form).content.decode()
    assert "This session makes 6 slots each week" in page
    assert "09:00, 09:10, 09:20, 09:30, 09:40, 09:50" in page
    assert not SessionTemplate.objects.exists()
    form.pop("preview")
    assert client.post("/rotas/", form).status_code == 302
    assert Slot.objects.filter(clinician=gp).count() >= 6


def test_changing_a_session_moves_free_slots_and_keeps_booked_ones(manager):
    gp = GPFactory(practice=manager.practice)
    change = rotas.save_session(manager, None, **session_fields(gp))
    session = change.session
    first = Slot.objects.filter(session_template=session).order_by("start").first()
    booked = appointments.book_appointment(first.pk, PatientFactory(practice=gp.practice), manager)

    change = rotas.save_session(
        manager, session, **session_fields(gp, start_time=time(14), end_time=time(15))
    )
    assert change.kept_booked >= 1
    booked.refresh_from_db()
    assert booked.slot_id == first.pk  # the booked slot is where it was
    assert Slot.objects.filter(pk=first.pk).exists()
    afternoon = Slot.objects.filter(session_template=session, start__gt=timezone.now())
    free_times = {timezone.localtime(s.start).hour for s in afternoon if s.pk != first.pk}
    assert free_times == {14}


def test_a_session_that_ends_before_it_starts_is_refused(client, manager):
    gp = GPFactory(practice=manager.practice)
    force_login_verified(client, manager)
    form = {k: v for k, v in session_fields(gp).items() if v is not None} | {"clinician": gp.pk}
    form |= {"start_time": "10:00", "end_time": "09:00"}
    response = client.post("/rotas/", form)
    assert response.status_code == 400
    assert "The session must end after it starts" in response.content.decode()
