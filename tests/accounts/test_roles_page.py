"""The roles page shows the activity table that access control enforces."""

import re

import pytest

from steadfast.accounts.access import ACTIVITY_TABLE
from steadfast.accounts.models import Role
from tests.factories import UserFactory, force_login_verified

pytestmark = pytest.mark.django_db


def cells(page: str, activity: str) -> list[str]:
    label = activity.replace("_", " ").capitalize()
    row = re.search(rf"<strong>{label}</strong>.*?</tr>", page, re.S)[0]
    return re.findall(r">(Yes|No)<", row)


def test_practice_manager_sees_every_activity_and_who_may_do_it(client):
    force_login_verified(client, UserFactory(role=Role.PRACTICE_MANAGER))
    page = client.get("/accounts/roles/").content.decode()
    roles = list(Role)
    for activity, (allowed, _) in ACTIVITY_TABLE.items():
        assert cells(page, activity) == ["Yes" if r in allowed else "No" for r in roles]
    prescribe = dict(zip([r.value for r in roles], cells(page, "prescribe"), strict=True))
    assert prescribe == {
        "receptionist": "No",
        "gp": "Yes",
        "nurse": "Yes",
        "hca": "No",
        "practice_manager": "No",
        "admin": "No",
    }


def test_receptionist_is_refused_the_roles_page(client):
    client.force_login(UserFactory(role=Role.RECEPTIONIST))
    assert client.get("/accounts/roles/").status_code == 403
