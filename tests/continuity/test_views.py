"""Downtime access pages through HTTP: download, offline copy, openings, passphrase."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse
from django.utils import timezone

from steadfast.accounts.models import Role
from steadfast.audit.models import AuditEvent
from steadfast.continuity import services
from steadfast.continuity.models import DowntimePassphrase
from tests.continuity.conftest import PASSPHRASE
from tests.factories import UserFactory, force_login_verified

DOWNTIME = reverse("continuity:downtime")


@pytest.fixture
def stored(clinic, settings, tmp_path):
    settings.PACK_DIR = tmp_path
    return services.store_pack(clinic.practice, PASSPHRASE)


@pytest.fixture
def reception(client, clinic):
    client.force_login(clinic.reception)
    return clinic.reception


def test_page_offers_the_latest_pack_with_its_time(client, reception, stored):
    page = client.get(DOWNTIME).content.decode()
    assert "Download the pack" in page
    assert f"Made {timezone.localtime(stored.made_at):%-d %b %Y at %H:%M}" in page
    assert "out of date" not in page


def test_page_warns_when_no_pack_has_been_made_for_two_intervals(
    client, reception, clinic, settings, tmp_path
):
    settings.PACK_DIR = tmp_path
    settings.PACK_EVERY_MINUTES = 15
    services.store_pack(clinic.practice, PASSPHRASE, now=timezone.now() - timedelta(minutes=40))
    assert "The pack is out of date" in client.get(DOWNTIME).content.decode()


def test_download_is_the_encrypted_file_as_an_attachment_and_is_audited(client, reception, stored):
    response = client.get(reverse("continuity:download"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{stored.name}"'
    assert b"".join(response.streaming_content) == stored.path.read_bytes()
    event = AuditEvent.objects.get(action="download_downtime_pack")
    assert (event.user_id, event.detail) == (reception.pk, f"{stored.name} downloaded")


def test_offline_copy_is_served_under_the_packs_own_strict_policy(client, reception, stored):
    response = client.get(reverse("continuity:offline_copy"))
    assert response["X-Pack-Id"] == stored.name
    assert response["X-Pack-Made-At"] == stored.made_at.isoformat()
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "'self'" not in policy
    assert "script-src 'sha256-" in policy and "frame-ancestors 'none'" in policy
    assert AuditEvent.objects.get(action="download_downtime_pack").detail.endswith(
        "kept offline in the browser"
    )


def test_the_downtime_page_keeps_the_sites_policy(client, reception, stored):
    policy = client.get(DOWNTIME)["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "sha256" not in policy and "unsafe-inline" not in policy


def test_with_no_pack_yet_download_goes_back_to_the_page(client, reception, settings, tmp_path):
    settings.PACK_DIR = tmp_path
    response = client.get(reverse("continuity:download"))
    assert response.status_code == 302 and response.url == DOWNTIME
    assert "No pack has been made yet" in client.get(DOWNTIME).content.decode()


def test_status_names_the_latest_pack(client, reception, stored):
    assert client.get(reverse("continuity:status")).json() == {
        "pack": stored.name,
        "made_at": stored.made_at.isoformat(),
        "size": stored.size,
    }


def post_opens(client, opens) -> object:
    return client.post(
        reverse("continuity:record_opens"),
        json.dumps({"opens": opens}),
        content_type="application/json",
    )


def test_openings_queued_offline_go_on_the_audit_trail(client, reception, stored):
    response = post_opens(
        client,
        [
            {"pack": stored.name, "at": "2026-07-19T08:05:00.000Z"},
            {"pack": stored.name, "at": "2026-07-19T09:30:00+01:00"},
        ],
    )
    assert response.json() == {"recorded": 2}
    details = sorted(
        AuditEvent.objects.filter(action="open_downtime_pack").values_list("detail", flat=True)
    )
    assert details == [
        f"{stored.name} opened offline at 2026-07-19T08:05:00Z",
        f"{stored.name} opened offline at 2026-07-19T08:30:00Z",
    ]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        {"opens": "x"},
        {"opens": [{"pack": "../../etc/passwd", "at": "2026-07-19T08:05:00Z"}]},
        {"opens": [{"pack": "steadfast-downtime-A81001-20260719T080000Z.html", "at": "x"}]},
        {"opens": [{"at": "2026-07-19T08:05:00Z"}]},
        {"opens": [None]},
        {"opens": [{"pack": "PACK", "at": "2026-07-19T08:05:00"}]},  # no offset
        {"opens": [{"pack": "PACK", "at": "2999-01-01T00:00:00Z"}]},  # in the future
        {"opens": [{"pack": "PACK", "at": "2026-07-19T08:05:00Z"}] * 101},
    ],
)
def test_bad_openings_are_refused_with_a_reason_and_record_nothing(client, reception, stored, body):
    if isinstance(body, dict) and isinstance(body["opens"], list):
        text = json.dumps(body).replace("PACK", stored.name)
    else:
        text = body if isinstance(body, str) else json.dumps(body)
    response = client.post(
        reverse("continuity:record_opens"), text, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]
    assert not AuditEvent.objects.filter(action="open_downtime_pack").exists()


def test_service_worker_is_a_script_scoped_to_the_downtime_pages(client):
    response = client.get(reverse("continuity:service_worker"))
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    script = response.content.decode()
    assert '"page": "/continuity/downtime/"' in script
    assert '"pack": "/continuity/downtime/offline/"' in script


def manager_client(client, clinic):
    manager = UserFactory(practice=clinic.practice, role=Role.PRACTICE_MANAGER)
    force_login_verified(client, manager)
    return manager


def test_manager_sets_the_passphrase_and_only_a_verifier_is_kept(client, clinic):
    manager = manager_client(client, clinic)
    new = "otter meadow quartz violin"
    response = client.post(
        reverse("continuity:passphrase"), {"passphrase": new, "confirm": new}, follow=True
    )
    assert "The downtime passphrase is changed" in response.content.decode()
    stored = DowntimePassphrase.objects.get(practice=clinic.practice)
    assert new not in stored.verifier and check_password(new, stored.verifier)
    assert stored.set_by == manager
    event = AuditEvent.objects.filter(action="set_downtime_passphrase").latest("id")
    assert event.user_id == manager.pk and new not in event.detail
    with pytest.raises(services.PassphraseProblem):
        services.build_pack(clinic.practice, PASSPHRASE)  # the old one no longer makes packs


@pytest.mark.parametrize(
    ("passphrase", "confirm", "message"),
    [
        ("short one", "short one", "at least 12 characters"),
        ("otter meadow quartz", "otter meadow quarts", "The two passphrases are different"),
        ("administrator", "administrator", "too common"),
        (" otter meadow quartz", " otter meadow quartz", "Take the spaces off"),
        ("", "", "Enter the new downtime passphrase"),
    ],
)
def test_a_weak_or_mistyped_passphrase_is_refused_and_never_sent_back(
    client, clinic, passphrase, confirm, message
):
    manager_client(client, clinic)
    response = client.post(
        reverse("continuity:passphrase"), {"passphrase": passphrase, "confirm": confirm}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    if passphrase.strip():
        assert passphrase.strip() not in page
    assert check_password(
        PASSPHRASE, DowntimePassphrase.objects.get(practice=clinic.practice).verifier
    )
