"""Session rules every request passes through: the idle timeout and the second factor.

Both live here, not in views, so no page can forget them.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.urls import reverse

LAST_ACTIVITY_KEY = "steadfast_last_activity"
# Set at login for someone who has an authenticator app though their role does not need one.
SECOND_FACTOR_CHOSEN_KEY = "steadfast_second_factor_chosen"
# Refresh the stamp at most once a minute, so a busy session is not written on every request.
ACTIVITY_RESOLUTION_SECONDS = 60

# Pages an unverified user may still reach: the second factor itself, and signing in or out.
SECOND_FACTOR_EXEMPT = frozenset(
    {"accounts:login", "accounts:logout", "accounts:second_factor", "accounts:set_up_second_factor"}
)


def _send_to(request, url: str) -> HttpResponse:
    """Redirect, or for an htmx request tell htmx to load the page whole, not as a fragment."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect_to_login(request.get_full_path(), login_url=url)


def stamp_activity(session) -> None:
    session[LAST_ACTIVITY_KEY] = int(time.time())


class IdleTimeoutMiddleware:
    """Sign out a session that has made no request for SESSION_IDLE_TIMEOUT seconds.

    The absolute limit stays SESSION_COOKIE_AGE. Place after MessageMiddleware (the sign-out
    message) and AuthenticationMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY_KEY)
            if last is not None and now - last > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                minutes = settings.SESSION_IDLE_TIMEOUT // 60
                messages.info(
                    request,
                    f"You were signed out after {minutes} minutes without activity. "
                    "Log in again to carry on.",
                )
                return _send_to(request, reverse(settings.LOGIN_URL))
            if last is None or now - last >= ACTIVITY_RESOLUTION_SECONDS:
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


class SecondFactorRequiredMiddleware:
    """Until someone who needs a second factor has entered a code, send them to enter one.

    Their role may need it (SECOND_FACTOR_ROLES), or they chose it by setting up an app.

    Place after django_otp's OTPMiddleware, which provides `request.user.is_verified()`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        if not (user.needs_second_factor or request.session.get(SECOND_FACTOR_CHOSEN_KEY)):
            return None
        if request.resolver_match.view_name in SECOND_FACTOR_EXEMPT:
            return None
        return _send_to(request, reverse("accounts:second_factor"))
