"""Helpers for downtime tests in one process: the node's journal is written with node mode on,
then the node's own rows are dropped (as `node reconcile` does) and the journal is sent to the
central server's FHIR operation, which here shares the test database."""

import json

from django.test import override_settings

from steadfast.appointments.models import Appointment, AppointmentStatus, Slot, SlotStatus
from steadfast.continuity.downtime.models import DowntimeSession, JournalEntry
from steadfast.continuity.downtime.reconcile import _drop_node_rows
from steadfast.continuity.downtime.services import start_downtime, stop_downtime
from steadfast.continuity.downtime.wire import bundle_entry


class NodeDowntime:
    """`with NodeDowntime() as node:` — writes through the services inside are journalled."""

    def __enter__(self):
        self.settings = override_settings(NODE_MODE=True)
        self.settings.enable()
        self.session = start_downtime()
        return self

    def __exit__(self, *exc):
        stop_downtime()
        self.settings.disable()
        return False

    @property
    def entries(self) -> list[JournalEntry]:
        return list(self.session.entries.order_by("seq"))


def drop_node_rows(session: DowntimeSession) -> None:
    """As reconcile does on a node; then slots the node's bookings held are free again, as the
    central copy (which the node takes again afterwards) has them."""
    _drop_node_rows(session)
    live = Appointment.objects.exclude(status=AppointmentStatus.CANCELLED).values("slot_id")
    Slot.objects.filter(status=SlotStatus.BOOKED).exclude(pk__in=live).update(
        status=SlotStatus.FREE
    )


def send(client, token: str, entries: list[JournalEntry]) -> list[dict]:
    """POST the entries as the node does; the batch-response's entries."""
    response = client.post(
        "/fhir/$reconcile-downtime",
        data=json.dumps(
            {"resourceType": "Bundle", "type": "batch", "entry": [bundle_entry(e) for e in entries]}
        ),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    return [item["response"] for item in response.json()["entry"]]


def codes(answers: list[dict]) -> list[int]:
    return [int(a["status"].split()[0]) for a in answers]
