"""Logins, failed logins and logouts go to the audit trail."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from steadfast.audit.models import Outcome
from steadfast.audit.services import record


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record("login", user=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    record("login", username=credentials.get("username", ""), outcome=Outcome.FAILED)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record("logout", user=user)
