"""Staff (manage_staff): add, change role, disable, reset a lost second factor; all audited."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from steadfast.accounts import services
from steadfast.accounts.models import Role, User
from steadfast.audit.models import AuditEvent
from steadfast.errors import DomainError
from tests.factories import GPFactory, UserFactory, force_login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return UserFactory(role=Role.PRACTICE_MANAGER)


def test_a_manager_adds_staff_who_can_sign_in_with_the_one_time_password(client, manager):
    force_login_verified(client, manager)
    response = client.post(
        "/accounts/staff/",
        {"first_name": "Ada", "last_name": "Byrne", "username": "abyrne", "role": "nurse"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "Staff added" in page
    password = page.split('id="one-time-password">')[1].split("<")[0]
    member = User.objects.get(username="abyrne")
    assert (member.practice, member.role) == (manager.practice, Role.NURSE)
    assert member.check_password(password)
    assert AuditEvent.objects.filter(action="add_staff", user_id=manager.pk).exists()


def test_a_taken_username_is_a_form_error(client, manager):
    UserFactory(username="abyrne")
    force_login_verified(client, manager)
    response = client.post(
        "/accounts/staff/",
        {"first_name": "Ada", "last_name": "Byrne", "username": "abyrne", "role": "nurse"},
    )
    assert response.status_code == 400
    assert "The username abyrne is taken" in response.content.decode()


def test_changing_a_role_applies_at_once_and_is_audited(client, manager):
    member = UserFactory(practice=manager.practice, role=Role.RECEPTIONIST)
    before = member.session_generation
    force_login_verified(client, manager)
    client.post(f"/accounts/staff/{member.pk}/", {"action": "role", "role": "hca"})
    member.refresh_from_db()
    assert member.role == Role.HCA
    assert member.session_generation > before  # signed out everywhere
    assert AuditEvent.objects.filter(action="change_staff_role").exists()


def test_a_disabled_member_cannot_sign_in_and_a_manager_cannot_disable_themselves(client, manager):
    member = UserFactory(practice=manager.practice)
    force_login_verified(client, manager)
    client.post(f"/accounts/staff/{member.pk}/", {"action": "disable"})
    member.refresh_from_db()
    assert not member.is_active
    assert AuditEvent.objects.filter(action="disable_staff").exists()
    with pytest.raises(DomainError):
        services.set_staff_active(manager, manager, False)


def test_resetting_a_lost_second_factor_removes_the_app_and_is_audited(client, manager):
    gp = GPFactory(practice=manager.practice)
    TOTPDevice.objects.create(user=gp, name="Phone", confirmed=True)
    force_login_verified(client, manager)
    client.post(f"/accounts/staff/{gp.pk}/", {"action": "reset_second_factor"})
    assert not TOTPDevice.objects.filter(user=gp).exists()
    assert AuditEvent.objects.filter(action="reset_second_factor").exists()


def test_a_manager_cannot_make_a_system_administrator(manager):
    member = UserFactory(practice=manager.practice)
    with pytest.raises(DomainError):
        services.change_role(manager, member, Role.ADMIN)
