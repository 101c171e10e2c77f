"""Staff accounts for a practice node: username, password hash, role and authenticator keys.

They travel over the node-only endpoint (`GET /node/staff`, a node token required), never over
FHIR, so staff sign in to the node exactly as to the central server. The format is Django's own
JSON serialisation of the rows; the node saves them as they are.
"""

import json

from django.contrib.auth import get_user_model
from django.core import serializers
from django.db.models import Max
from django_otp.plugins.otp_totp.models import TOTPDevice

from steadfast.fhir.models import Change


def staff_etag(practice_id) -> str:
    """Changes whenever an account or authenticator of the practice changes (the change log
    notes both as the member of staff's Practitioner)."""
    last = Change.objects.filter(practice_id=practice_id, resource_type="Practitioner").aggregate(
        last=Max("seq")
    )["last"]
    return f'"staff-{last or 0}"'


def staff_export(practice) -> tuple[int, dict]:
    """(how many accounts, the list) of the practice's staff and their authenticators."""
    users = list(get_user_model().objects.filter(practice=practice).order_by("pk"))
    devices = list(TOTPDevice.objects.filter(user__in=users).order_by("pk"))
    return len(users), {
        "practice": str(practice.pk),
        "ods_code": practice.ods_code,
        "staff": json.loads(serializers.serialize("json", [*users, *devices])),
    }


def staff_import(practice_id, payload: str) -> int:
    """Save the accounts as sent; authenticators removed centrally go here too. Returns the
    number of accounts."""
    User = get_user_model()
    users, device_ids = 0, []
    for item in serializers.deserialize("json", payload):
        obj = item.object
        if isinstance(obj, User):
            if obj.practice_id != practice_id:
                raise ValueError("the staff list names another practice")
            users += 1
        elif isinstance(obj, TOTPDevice):
            device_ids.append(obj.pk)
        else:
            raise ValueError(f"unexpected {type(obj).__name__} in the staff list")
        item.save()
    TOTPDevice.objects.filter(user__practice_id=practice_id).exclude(pk__in=device_ids).delete()
    return users
