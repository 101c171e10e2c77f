"""Reads about the practice and its staff."""

from django.contrib.auth import get_user_model

from steadfast.accounts.models import Role


def practice_gps(practice) -> list:
    return list(get_user_model().objects.filter(practice=practice, role=Role.GP, is_active=True))
