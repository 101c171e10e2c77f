"""Passwords: stored as Argon2 hashes, and refused when short, common, numeric or like the name."""

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from steadfast import settings as project_settings
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def refusal(password: str, user=None) -> str:
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    return " ".join(refused.value.messages)


def test_passwords_are_stored_as_argon2_hashes(settings):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS  # tests use a fast hasher
    user = UserFactory()
    user.set_password("a sensible long passphrase")
    assert user.password.startswith("argon2$argon2id$")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password("a sensible long passphrase")


def test_a_password_under_twelve_characters_is_refused():
    assert "at least 12 characters" in refusal("kT9#vQ2!mZ")


@pytest.mark.parametrize("password", ["qwerty123456", "1q2w3e4r5t6y", "qwertyuiop[]"])
def test_a_common_password_from_breach_lists_is_refused(password):
    assert "too common" in refusal(password)


def test_an_all_numeric_password_is_refused():
    assert "entirely numeric" in refusal("583920174628")


def test_a_password_like_the_username_is_refused():
    user = UserFactory(username="amara.okafor", first_name="Amara", last_name="Okafor")
    assert "too similar" in refusal("amara.okafor1", user)


def test_a_long_uncommon_password_is_accepted():
    validate_password("copper kettle lantern drizzle")
