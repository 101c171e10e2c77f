"""A GP and a receptionist signed in to the test client, shared by the appointment view tests."""

import pytest

from steadfast.accounts.models import Role
from tests.factories import GPFactory, UserFactory


@pytest.fixture
def gp():
    return GPFactory(last_name="Okafor")


@pytest.fixture
def reception(client, gp):
    user = UserFactory(practice=gp.practice, role=Role.RECEPTIONIST)
    client.force_login(user)
    return user
