"""A practice node keeps the latest downtime pack: copied already sealed from the central server
over the node-only endpoint (the passphrase never goes to the node), and served on the node's
Downtime access page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from steadfast.accounts.models import Role
from steadfast.audit.models import AuditEvent
from steadfast.continuity import services
from steadfast.continuity.node.follow import FollowError
from steadfast.continuity.node.models import FollowerState, NodeToken
from steadfast.continuity.node.pack import fetch_latest_pack
from steadfast.continuity.node.tokens import issue_node_token, revoke_node_token
from steadfast.fhir.auth import make_token
from tests.continuity.conftest import PASSPHRASE, opened
from tests.factories import GPFactory, UserFactory, force_login_verified


@pytest.fixture
def folders(settings, tmp_path):
    """The central server's pack folder (its worker builds into it) and the node's own."""
    settings.PACK_DIR = tmp_path / "central"
    return settings.PACK_DIR, tmp_path / "node" / "packs"


def _made(clinic, central, minutes_from_now=0) -> services.StoredPack:
    now = timezone.now() + timedelta(minutes=minutes_from_now)
    return services.store_pack(clinic.practice, PASSPHRASE, folder=central, now=now)


def _node_state(clinic, upstream: str) -> FollowerState:
    token = issue_node_token(clinic.practice, "back-office")[1]
    return FollowerState(upstream=upstream, token=token, practice=clinic.practice)


@pytest.mark.django_db(transaction=True)
def test_the_node_copies_the_latest_pack_and_it_opens_with_the_practice_passphrase(
    live_server, clinic, folders
):
    central, node = folders
    first = _made(clinic, central)
    state = _node_state(clinic, live_server.url)

    fetched = fetch_latest_pack(state, node)

    assert fetched.new and fetched.pack.name == first.name
    copy = node / first.name
    assert copy.read_bytes() == first.path.read_bytes()
    assert copy.stat().st_mode & 0o777 == 0o600
    pack = opened(copy.read_bytes())  # sealed by the central server; opened with the passphrase
    assert pack["practice"]["ods"] == clinic.practice.ods_code
    assert any("FAIRWEATHER" in patient["name"] for patient in pack["register"])
    assert PASSPHRASE.encode() not in copy.read_bytes()

    again = fetch_latest_pack(state, node)  # nothing newer: 304, nothing written
    assert not again.new and again.pack.name == first.name

    newer = _made(clinic, central, minutes_from_now=15)
    replaced = fetch_latest_pack(state, node)
    assert replaced.new and replaced.pack.name == newer.name
    assert [p.name for p in services.stored_packs(clinic.practice, node)] == [newer.name]
    assert AuditEvent.objects.filter(action="node_pack_copy").count() == 2  # not the 304


@pytest.mark.django_db(transaction=True)
def test_a_revoked_node_gets_no_pack_and_keeps_the_one_it_had(live_server, clinic, folders):
    central, node = folders
    first = _made(clinic, central)
    state = _node_state(clinic, live_server.url)
    fetch_latest_pack(state, node)
    revoke_node_token(NodeToken.objects.get())
    _made(clinic, central, minutes_from_now=15)

    with pytest.raises(FollowError, match="401"):
        fetch_latest_pack(state, node)
    assert [p.name for p in services.stored_packs(clinic.practice, node)] == [first.name]


@pytest.mark.django_db(transaction=True)
def test_before_the_first_pack_the_node_is_told_there_is_none(live_server, clinic, folders):
    fetched = fetch_latest_pack(_node_state(clinic, live_server.url), folders[1])
    assert fetched.pack is None and not fetched.new


@pytest.mark.django_db
def test_the_pack_endpoint_opens_only_to_a_live_node_token(client, clinic, folders):
    _made(clinic, folders[0])
    manager = UserFactory(practice=clinic.practice, role=Role.PRACTICE_MANAGER)
    live = issue_node_token(clinic.practice, "live")[1]
    revoked = issue_node_token(clinic.practice, "old")[1]
    revoke_node_token(NodeToken.objects.get(name="old"))

    def status(token: str | None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.get("/node/pack", headers=headers).status_code

    assert status(live) == 200
    assert status(revoked) == 401
    assert status(make_token(clinic.gp)) == 401  # a person's API token
    assert status(make_token(manager)) == 401
    assert status(live[:-4] + "abcd") == 401
    force_login_verified(client, manager)  # a signed-in person's session
    assert status(None) == 401


@pytest.mark.django_db
def test_another_practices_node_never_gets_this_practices_pack(client, clinic, folders):
    _made(clinic, folders[0])
    elsewhere = GPFactory().practice
    token = issue_node_token(elsewhere, "their-pc")[1]
    response = client.get("/node/pack", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204 and not response.content


@pytest.mark.django_db
def test_the_nodes_downtime_page_serves_the_copied_pack_to_signed_in_staff(
    client, clinic, folders, settings
):
    central, node = folders
    made = _made(clinic, central)
    node.mkdir(parents=True)
    (node / made.name).write_bytes(made.path.read_bytes())
    settings.PACK_DIR, settings.NODE_MODE = node, True
    FollowerState.objects.create(
        upstream="https://steadfast.example", token="x", caught_up_at=timezone.now()
    )
    manager = UserFactory(practice=clinic.practice, role=Role.PRACTICE_MANAGER)
    force_login_verified(client, manager)

    page = client.get(reverse("continuity:downtime")).content.decode()
    assert "Download the pack" in page
    assert "this practice copy keeps the latest" in page
    assert "Set the downtime passphrase" not in page  # not on the copy: the main system's job
    assert "no downtime passphrase yet" not in page
    download = client.get(reverse("continuity:download"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == made.path.read_bytes()
    opens = client.post(
        reverse("continuity:record_opens"),
        {"opens": [{"pack": made.name, "at": timezone.now().isoformat()}]},
        content_type="application/json",
    )
    assert opens.status_code == 200  # the node's own audit trail notes offline openings


@pytest.mark.django_db
def test_a_node_with_no_pack_yet_says_it_copies_the_main_systems(client, clinic, folders, settings):
    settings.PACK_DIR, settings.NODE_MODE = folders[1], True
    force_login_verified(client, clinic.reception)
    page = client.get(reverse("continuity:downtime")).content.decode()
    assert "This practice copy has no downtime pack yet" in page
