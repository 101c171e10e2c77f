"""Who may do what: one table of activities and the roles allowed each.

Every view declares the activity it needs with `@requires(...)`; nothing else decides access.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from steadfast.accounts.models import Role

R = Role
ACTIVITIES: dict[str, frozenset[str]] = {
    "view_appointment_book": frozenset({R.RECEPTIONIST, R.GP, R.NURSE, R.HCA, R.PRACTICE_MANAGER}),
    "book_appointments": frozenset({R.RECEPTIONIST, R.GP, R.NURSE, R.HCA, R.PRACTICE_MANAGER}),
    "manage_arrivals": frozenset({R.RECEPTIONIST, R.GP, R.NURSE, R.HCA, R.PRACTICE_MANAGER}),
    "view_own_list": frozenset({R.GP, R.NURSE, R.HCA}),
    "view_demographics": frozenset({R.RECEPTIONIST, R.GP, R.NURSE, R.HCA, R.PRACTICE_MANAGER}),
    "register_patients": frozenset({R.RECEPTIONIST, R.PRACTICE_MANAGER}),
}


def can(user, activity: str) -> bool:
    """True when the signed-in user's role allows the activity and they belong to a practice."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.practice_id
        and user.role in ACTIVITIES[activity]
    )


def requires(activity: str) -> Callable:
    """View decorator: sign in first, then 403 unless the role allows `activity`."""
    if activity not in ACTIVITIES:
        raise ValueError(f"unknown activity {activity!r}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can(request.user, activity):
                raise PermissionDenied(activity)
            return view(request, *args, **kwargs)

        wrapped.activity = activity
        return wrapped

    return decorator
