"""Writes to staff accounts: the second factor and signing out everywhere."""

import math

import django_otp
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from steadfast.accounts import signals
from steadfast.accounts.models import User

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
