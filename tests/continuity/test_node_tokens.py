"""Node tokens: made by command, listed and revoked by the practice manager, and the node-only
staff endpoint they open."""

import json

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from steadfast.accounts.models import Role
from steadfast.audit.models import AuditEvent
from steadfast.continuity.node.models import NodeToken
from steadfast.continuity.node.tokens import issue_node_token, revoke_node_token
from steadfast.errors import NotPermitted
from steadfast.fhir.auth import make_token
from tests.factories import GPFactory, UserFactory, force_login_verified

pytestmark = pytest.mark.django_db


def _token(practice, name="back-office") -> str:
    return issue_node_token(practice, name)[1]


def test_the_command_prints_a_token_that_follows_the_practice(client, capsys):
    gp = GPFactory()
    call_command("continuity", "node-token", "--practice", gp.practice.ods_code, "--name", "pc1")
    token = capsys.readouterr().out.strip()
    response = client.get("/fhir/_history", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert NodeToken.objects.get().name == "pc1"
    assert "sfnode." in token and NodeToken.objects.get().secret_sha256 not in token


def test_a_second_live_token_for_one_node_name_is_refused():
    gp = GPFactory()
    args = ("continuity", "node-token", "--practice", gp.practice.ods_code, "--name", "pc1")
    call_command(*args)
    with pytest.raises(CommandError, match="already has a live token"):
        call_command(*args)


def test_revoking_by_command_stops_the_node(client):
    gp = GPFactory()
    token = _token(gp.practice, "pc1")
    call_command(
        "continuity", "revoke-node-token", "--practice", gp.practice.ods_code, "--name", "pc1"
    )
    response = client.get("/node/staff", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_the_staff_list_carries_hashes_and_authenticators_to_the_node_only(client):
    gp = GPFactory()
    device = TOTPDevice.objects.create(user=gp, name="phone", confirmed=True)
    receptionist = UserFactory(practice=gp.practice)
    stranger = UserFactory()
    token = _token(gp.practice)
    response = client.get("/node/staff", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    listing = json.loads(response.content)
    assert listing["practice"] == str(gp.practice_id)
    rows = listing["staff"]
    users = {r["pk"]: r["fields"] for r in rows if r["model"] == "accounts.user"}
    assert set(users) == {gp.pk, receptionist.pk}
    assert users[gp.pk]["password"] == gp.password
    assert [r["fields"]["key"] for r in rows if r["model"] == "otp_totp.totpdevice"] == [device.key]
    assert stranger.pk not in users
    assert AuditEvent.objects.filter(action="node_staff_copy").exists()


@pytest.mark.django_db(transaction=True)  # on PostgreSQL a change is numbered at commit
def test_the_staff_list_answers_not_modified_until_an_account_changes(client):
    gp = GPFactory()
    headers = {"Authorization": f"Bearer {_token(gp.practice)}"}
    etag = client.get("/node/staff", headers=headers)["ETag"]
    assert client.get("/node/staff", headers={**headers, "If-None-Match": etag}).status_code == 304
    gp.set_password("a-new-long-password")
    gp.save()
    assert client.get("/node/staff", headers={**headers, "If-None-Match": etag}).status_code == 200


def test_staff_tokens_and_nobody_get_no_staff_list(client):
    gp = GPFactory()
    manager = UserFactory(practice=gp.practice, role=Role.PRACTICE_MANAGER)
    assert client.get("/node/staff").status_code == 401
    headers = {"Authorization": f"Bearer {make_token(manager)}"}
    assert client.get("/node/staff", headers=headers).status_code == 401
    force_login_verified(client, manager)
    assert client.get("/node/staff").status_code == 401


def test_the_manager_sees_the_practices_tokens_and_revokes_one(client):
    manager = UserFactory(role=Role.PRACTICE_MANAGER)
    token = _token(manager.practice, "reception-pc")
    elsewhere = issue_node_token(GPFactory().practice, "not-ours")[0]
    force_login_verified(client, manager)
    page = client.get("/node/tokens/").content.decode()
    assert "reception-pc" in page and "not-ours" not in page
    row = NodeToken.objects.get(name="reception-pc")
    client.post(f"/node/tokens/{row.pk}/revoke/")
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert (
        client.get("/fhir/_history", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    assert client.post(f"/node/tokens/{elsewhere.pk}/revoke/").status_code == 404


def test_only_the_manager_may_see_node_tokens(client):
    receptionist = UserFactory()
    force_login_verified(client, receptionist)
    assert client.get("/node/tokens/").status_code == 403


def test_revoking_is_refused_in_the_service_to_all_but_the_practices_manager():
    gp = GPFactory()
    token = issue_node_token(gp.practice, "pc1")[0]
    other_manager = UserFactory(role=Role.PRACTICE_MANAGER)
    for who in (gp, UserFactory(practice=gp.practice), other_manager):
        with pytest.raises(NotPermitted):
            revoke_node_token(token, by=who)
    token.refresh_from_db()
    assert token.revoked_at is None
