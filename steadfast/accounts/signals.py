"""Account events other apps (the audit trail) may listen for, and what happens at login.

Accounts sends these and depends on no listener. Each is sent with `user`.
"""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import Signal, receiver

from steadfast.accounts.middleware import SECOND_FACTOR_CHOSEN_KEY, stamp_activity
from steadfast.accounts.queries import confirmed_authenticators

second_factor_verified = Signal()
second_factor_failed = Signal()
authenticator_confirmed = Signal()
signed_out_everywhere = Signal()


@receiver(user_logged_in)
def _start_session(sender, request, user, **kwargs):
    if request is None:
        return
    stamp_activity(request.session)
    # Someone whose role does not need a second factor but who set one up is asked for it too.
    if not user.needs_second_factor and confirmed_authenticators(user):
        request.session[SECOND_FACTOR_CHOSEN_KEY] = True
