"""Reads about staff accounts: their authenticator apps, and what each role may do."""

from base64 import b32encode

import segno
from django_otp.plugins.otp_totp.models import TOTPDevice

from steadfast.accounts.access import ACTIVITY_TABLE
from steadfast.accounts.models import Role, User


def staff_member(practice, username: str) -> User | None:
    return User.objects.filter(practice=practice, username=username).first()


def confirmed_authenticators(user) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("created_at"))


def readable_secret(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// address as a QR code, an SVG drawn here (nothing is sent elsewhere)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=4, light="#fff")


def role_table() -> dict:
    """Roles as columns, one row per activity: (activity, meaning, [allowed per role])."""
    roles = list(Role)
    rows = [
        (name.replace("_", " ").capitalize(), meaning, [role in allowed for role in roles])
        for name, (allowed, meaning) in ACTIVITY_TABLE.items()
    ]
    return {"roles": [role.label for role in roles], "rows": rows}


def practice_staff(practice) -> list[User]:
    """Everyone at the practice, enabled first, with whether each has an authenticator app."""
    staff = list(User.objects.filter(practice=practice).order_by("-is_active", "last_name"))
    with_app = set(
        TOTPDevice.objects.filter(user__in=staff, confirmed=True).values_list("user_id", flat=True)
    )
    for member in staff:
        member.has_authenticator = member.pk in with_app
    return staff


def practice_staff_member(practice, user_id) -> User:
    return User.objects.get(practice=practice, pk=user_id)
