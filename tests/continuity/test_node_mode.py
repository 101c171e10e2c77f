"""A practice node's pages: a banner saying how fresh the copy is, and no changes to the record."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from steadfast.appointments.models import Appointment
from steadfast.continuity.node.models import FollowerState
from tests.factories import PASSWORD, PatientFactory, SlotFactory, UserFactory
from tests.fhir.helpers import FHIRClient, outcome

pytestmark = pytest.mark.django_db
BANNER = re.compile(r"Practice copy — updated 1[234] s ago\. Use the main system while it is up\.")


@pytest.fixture
def node(settings):
    settings.NODE_MODE = True
    FollowerState.objects.create(
        upstream="https://steadfast.example",
        token="x",
        caught_up_at=timezone.now() - timedelta(seconds=12),
    )


@pytest.fixture
def receptionist(client):
    user = UserFactory()
    client.force_login(user)
    return user


def test_every_page_of_the_node_says_how_fresh_the_copy_is(client, node, receptionist):
    for name in ("home", "patients:search", "appointments:day"):
        page = client.get(reverse(name), follow=True).content.decode()
        assert BANNER.search(page), name


def test_the_central_server_shows_no_banner(client, receptionist):
    assert "Practice copy" not in client.get(reverse("appointments:day")).content.decode()


def test_booking_on_the_node_is_refused_and_changes_nothing(client, node, receptionist):
    slot = SlotFactory(practice=receptionist.practice, clinician__practice=receptionist.practice)
    patient = PatientFactory(practice=receptionist.practice)
    response = client.post(
        reverse("appointments:book", args=[slot.pk]), {"patient": str(patient.pk)}
    )
    assert response.status_code == 403
    assert "This is the practice copy: it cannot change the record." in response.content.decode()
    assert not Appointment.objects.exists()


def test_the_nodes_api_refuses_writes_with_an_operation_outcome(client, node, receptionist):
    api = FHIRClient(client, receptionist)
    diagnostics = outcome(api.post("Patient", {"resourceType": "Patient"}), 403)
    assert "practice copy" in diagnostics


def test_staff_can_still_sign_in_to_the_node(client, node):
    user = UserFactory()
    client.logout()
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert BANNER.search(client.get(reverse("home"), follow=True).content.decode())


def test_a_node_that_never_caught_up_says_so(client, settings, receptionist):
    settings.NODE_MODE = True
    page = client.get(reverse("appointments:day")).content.decode()
    assert "Practice copy — not yet updated." in page
