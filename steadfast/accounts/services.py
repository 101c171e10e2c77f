"""Writes to staff accounts: the second factor, signing out everywhere, and a manager's staff
changes (add, change role, disable and enable, reset a lost second factor), each audited and
starting with `require(actor, "manage_staff", practice_id=...)`. A change to someone's role or
access signs them out everywhere, so it applies at once."""

import math
import secrets

import django_otp
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from steadfast.accounts import signals
from steadfast.accounts.access import require
from steadfast.accounts.models import Role, User
from steadfast.audit.services import record
from steadfast.errors import DomainError

AUTHENTICATOR_NAME = "Authenticator app"


class WrongCode(Exception):
    pass


class TooManyWrongCodes(Exception):
    """django-otp doubles the wait after each wrong code (1 s, 2 s, 4 s...)."""

    def __init__(self, wait_seconds: int):
        super().__init__(wait_seconds)
        self.wait_seconds = wait_seconds


def sign_out_everywhere(user: User) -> None:
    """End every session `user` has, on every device, at its next request."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    signals.signed_out_everywhere.send(sender=User, user=user)


def authenticator_to_set_up(user: User) -> TOTPDevice:
    """The user's unconfirmed authenticator, made on first asking, so a reload keeps the secret."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        return device or TOTPDevice.objects.create(
            user=user, name=AUTHENTICATOR_NAME, confirmed=False
        )


def check_code(user: User, devices: list[TOTPDevice], code: str) -> TOTPDevice:
    """The device that accepts `code`; a code is good once (django-otp refuses a replay)."""
    waits = []
    for device in devices:
        allowed, info = device.verify_is_allowed()
        if not allowed:
            waits.append(info["locked_until"])
            continue
        # django_otp.verify_token locks the device row, so one code cannot be used twice at once.
        if verified := django_otp.verify_token(user, device.persistent_id, code):
            signals.second_factor_verified.send(sender=User, user=user)
            return verified
    signals.second_factor_failed.send(sender=User, user=user)
    if waits and len(waits) == len(devices):
        seconds = (min(waits) - timezone.now()).total_seconds()
        raise TooManyWrongCodes(max(1, math.ceil(seconds)))
    raise WrongCode()


def confirm_authenticator(user: User, device: TOTPDevice, code: str) -> TOTPDevice:
    """Confirm a newly added authenticator app with a code it shows; raises WrongCode."""
    device = check_code(user, [device], code)
    with transaction.atomic():
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device.confirmed = True
    signals.authenticator_confirmed.send(sender=User, user=user)
    return device


# --- A manager's staff changes ------------------------------------------------------------------

# A practice manager runs the practice's staff; a system administrator is made by another.
ROLES_A_MANAGER_GIVES = [r for r in Role if r != Role.ADMIN]


def _require_for(actor, practice_id) -> None:
    require(actor, "manage_staff", practice_id=practice_id)


def _not_themselves(actor, member: User, what: str) -> None:
    if actor.pk == member.pk:
        raise DomainError(f"You cannot {what} your own account: ask another manager.")


def _role_allowed(actor, role: str) -> None:
    if role == Role.ADMIN and actor.role != Role.ADMIN:
        raise DomainError("Only a system administrator can make another.")


def add_staff(
    actor,
    practice,
    *,
    username: str,
    first_name: str,
    last_name: str,
    role: str,
    title: str = "",
) -> tuple[User, str]:
    """A new member of staff at `practice`, and the one-time password to give them (they set up
    their authenticator app, when their role needs one, when they first sign in)."""
    _require_for(actor, practice.pk)
    _role_allowed(actor, role)
    password = secrets.token_urlsafe(12)
    try:
        with transaction.atomic():
            member = User(
                username=username,
                first_name=first_name,
                last_name=last_name,
                title=title,
                role=role,
                practice_id=practice.pk,
            )
            member.set_password(password)
            member.save()
            record("add_staff", user=actor, detail=f"{username} as {role}")
    except IntegrityError:
        raise DomainError(f"The username {username} is taken: choose another.") from None
    return member, password


def change_role(actor, member: User, role: str) -> User:
    _require_for(actor, member.practice_id)
    _not_themselves(actor, member, "change the role of")
    _role_allowed(actor, role)
    if member.role == Role.ADMIN and actor.role != Role.ADMIN:
        raise DomainError("Only a system administrator can change an administrator's role.")
    with transaction.atomic():
        before = member.role
        member.role = role
        member.save(update_fields=["role"])
        record("change_staff_role", user=actor, detail=f"{member.username}: {before} to {role}")
    sign_out_everywhere(member)
    return member


def set_staff_active(actor, member: User, active: bool) -> User:
    """Disable an account (its sessions end; it cannot sign in) or enable it again."""
    _require_for(actor, member.practice_id)
    _not_themselves(actor, member, "disable" if not active else "enable")
    with transaction.atomic():
        member.is_active = active
        member.save(update_fields=["is_active"])
        action = "enable_staff" if active else "disable_staff"
        record(action, user=actor, detail=member.username)
    if not active:
        sign_out_everywhere(member)
    return member


def reset_second_factor(actor, member: User) -> int:
    """Forget a lost phone's authenticator: the member signs in with their password and sets up
    a new app before anything else. Returns how many authenticators were removed."""
    _require_for(actor, member.practice_id)
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=member).delete()
        record("reset_second_factor", user=actor, detail=f"{member.username}: {removed} removed")
    sign_out_everywhere(member)
    return removed
