"""Downtime working and reconciliation with two live servers: the central server (`steadfast
serve` on PostgreSQL) and a practice node (SQLite).

The central server is killed (kill -9) after a booking the node had not yet copied; the node
works in downtime; the central server comes back; `steadfast node reconcile` sends the journal.
Every entry ends merged or on the worklist, none lost, none silently overwritten; the worklist
books the clash elsewhere; a second reconcile changes nothing; the audit trail verifies and shows
the entries, made on the node by their real authors. Then a partition: both sides book the same
day, and every clash is resolved through the worklist.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django_scopes import scopes_disabled

from steadfast.accounts.models import Role
from steadfast.appointments import services as book
from steadfast.appointments.models import Appointment, AppointmentStatus
from steadfast.audit.models import AuditEvent
from steadfast.continuity.downtime.models import EntryStatus, ReceivedEntry
from steadfast.continuity.node.tokens import issue_node_token
from steadfast.patients.models import Patient, RegistrationStatus
from steadfast.records.models import Consultation, Medication, Observation
from tests.continuity.servers import Central, Node
from tests.factories import (
    GPFactory,
    PatientFactory,
    SlotFactory,
    UserFactory,
    force_login_verified,
    london,
)
from tests.records.entries import AMOXICILLIN_500MG

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
LINE = re.compile(
    r"^reconcile: entries=(\d+) merged=(\d+) conflicts=(\d+) lost=(\d+) rate=(\d+)/s$"
)


def real_day_after_tomorrow():
    """The servers run on the real clock (this process's is frozen in the past): the node's
    downtime bookings must be for slots still to come by theirs."""
    return time_machine.escape_hatch.datetime.date.today() + timedelta(days=2)


def surgery(patients: int, slots: int) -> tuple:
    """A GP, a receptionist and a manager of one practice, its patients, and the GP's slots
    every 10 minutes from 09:00 on a real day ahead (the servers run on the real clock)."""
    gp = GPFactory()
    practice = gp.practice
    reception = UserFactory(practice=practice, role=Role.RECEPTIONIST)
    manager = UserFactory(practice=practice, role=Role.PRACTICE_MANAGER)
    day = real_day_after_tomorrow()
    return (
        gp,
        reception,
        manager,
        [PatientFactory(practice=practice) for _ in range(patients)],
        [
            SlotFactory(clinician=gp, start=london(day, 9) + timedelta(minutes=10 * n))
            for n in range(slots)
        ],
    )


def _summary(output: str) -> dict:
    last = output.strip().splitlines()[-1]
    found = LINE.match(last)
    assert found, last
    names = ("entries", "merged", "conflicts", "lost", "rate")
    return dict(zip(names, map(int, found.groups()), strict=True))


def _downtime_morning(ids: dict) -> str:
    """What staff do on the node in downtime, as code for the node's shell."""
    return f"""
from django.contrib.auth import get_user_model
from django_scopes import scopes_disabled
from steadfast.appointments import services as book
from steadfast.patients import services as patients
from steadfast.patients.models import Patient
from steadfast.records import services as records
from steadfast.records.models import Concept
import datetime
User = get_user_model()
with scopes_disabled():
    gp, reception = User.objects.get(pk={ids["gp"]}), User.objects.get(pk={ids["reception"]})
    p = [Patient.objects.get(pk=pk) for pk in {ids["patients"]!r}]
    booked = [
        book.book_appointment(slot, patient, reception, reason="Seen in downtime")
        for slot, patient in zip({ids["slots"]!r}, p)
    ]
    book.mark_arrived(booked[0], reception)
    book.mark_arrived(booked[1], reception)
    records.save_consultation(
        p[0], gp,
        records.ConsultationNote(
            "face_to_face", history="Sore throat for three days.",
            observations=[records.NewObservation("pulse", "88")],
            medications=[records.NewMedication(
                Concept.objects.get(code="{AMOXICILLIN_500MG}"), "acute",
                "One capsule three times a day", 15)],
        ),
        appointment=booked[0],
    )
    patients.register_patient(p[0].practice, dict(
        given_name="Tamsin", family_name="Pengelly", date_of_birth=datetime.date(1988, 3, 14),
        sex="female", address_line1="4 Quay Street", postcode="TR1 2HE"), reception)
"""


def _central_counts(practice) -> tuple:
    with scopes_disabled():
        return (
            Appointment.objects.filter(practice=practice).count(),
            Consultation.objects.filter(practice=practice).count(),
            Observation.objects.filter(practice=practice).count(),
            Patient.objects.filter(practice=practice).count(),
            # Changes only: following again reads the feed (an audited read) as it should.
            AuditEvent.objects.exclude(action__in=["follow_practice", "node_staff_copy"]).count(),
            ReceivedEntry.objects.count(),
        )


def test_kill_the_central_server_work_on_the_node_reconcile_nothing_lost(tmp_path, client):
    gp, reception, manager, patients, slots = surgery(patients=4, slots=8)
    practice = gp.practice
    token = issue_node_token(practice, "back-office")[1]

    central = Central(tmp_path / "central")
    node = Node(tmp_path / "node")
    try:
        node.run("node", "init", "--upstream", central.url, "--token", token)
        # Just before the outage, inside the follow lag: a booking the node never sees.
        with scopes_disabled():
            book.book_appointment(slots[2].pk, patients[3], manager, reason="Booked centrally")
        central.kill()
        assert node.run("node", "follow", "--once", check=False).returncode != 0

        node.run("node", "downtime", "start")
        ids = {
            "gp": gp.pk,
            "reception": reception.pk,
            "patients": [str(p.pk) for p in patients[:3]],
            "slots": [str(s.pk) for s in slots[:3]],
        }
        node.shell(_downtime_morning(ids))
        page = node.shell(
            "from steadfast.continuity.node.banner import practice_copy_banner\n"
            "print(practice_copy_banner())\n"
        )
        assert "Downtime working since" in page

        central = Central(tmp_path / "central", port=central.port)
        first = node.run("node", "reconcile").stdout
        summary = _summary(first)
        assert summary == {**summary, "entries": 7, "merged": 6, "conflicts": 1, "lost": 0}

        with scopes_disabled():
            merged = Appointment.objects.filter(
                practice=practice, idempotency_key__startswith="urn:steadfast:downtime|"
            )
            assert merged.count() == 2
            assert merged.get(slot=slots[0]).status == AppointmentStatus.FINISHED
            assert merged.get(slot=slots[1]).status == AppointmentStatus.ARRIVED
            # The central booking kept its slot: nothing silently overwritten.
            assert Appointment.objects.get(slot=slots[2]).patient == patients[3]
            consultation = Consultation.objects.get(patient=patients[0])
            assert consultation.recorded_by == gp
            assert Observation.objects.filter(consultation=consultation).exists()
            assert Medication.objects.filter(consultation=consultation).exists()
            assert Patient.objects.filter(
                practice=practice,
                family_name="Pengelly",
                registration_status=RegistrationStatus.TEMPORARY,
            ).exists()
            clash = ReceivedEntry.objects.get(status=EntryStatus.CONFLICT)
            assert "booked on the main system meanwhile" in clash.reason

        # The worklist: the practice manager books the clash into the nearest free slot.
        force_login_verified(client, manager)
        worklist = client.get("/continuity/reconcile/").content.decode()
        assert "booked on the main system meanwhile" in worklist
        page = client.get(f"/continuity/reconcile/{clash.pk}/").content.decode()
        offered = re.findall(r'name="slot" type="radio" value="([0-9a-f-]+)"', page)
        assert offered and str(slots[2].pk) not in offered
        client.post(f"/continuity/reconcile/{clash.pk}/", {"action": "book", "slot": offered[0]})
        clash.refresh_from_db()
        assert clash.status == EntryStatus.RESOLVED
        with scopes_disabled():
            assert Appointment.objects.get(slot_id=offered[0]).patient == patients[2]

        before = _central_counts(practice)
        second = _summary(node.run("node", "reconcile").stdout)
        assert second["entries"] == 7 and second["lost"] == 0
        assert _central_counts(practice) == before

        # The audit trail verifies, and shows each entry as its real author's, from the node.
        call_command("audit-verify")
        from_node = AuditEvent.objects.filter(source="node back-office (downtime)")
        assert from_node.filter(user_id=gp.pk, action="record_consultation").exists()
        assert from_node.filter(user_id=reception.pk, action="appointment_arrived").count() == 2
        assert AuditEvent.objects.filter(action="downtime_entry_conflict").count() == 1

        # Back to following: the node's copy is the central one again.
        node.run("node", "follow", "--once")
        on_node = node.shell(
            "from django_scopes import scopes_disabled\n"
            "from steadfast.appointments.models import Appointment\n"
            "with scopes_disabled():\n"
            "    print(sorted((str(a.slot_id), str(a.patient_id), a.status)"
            " for a in Appointment.objects.all()))\n"
        )
        with scopes_disabled():
            central_rows = sorted(
                (str(a.slot_id), str(a.patient_id), a.status)
                for a in Appointment.objects.filter(practice=practice)
            )
        assert on_node.strip() == str(central_rows)
    finally:
        central.stop()


def test_a_partition_both_sides_book_the_same_day_and_the_worklist_resolves_every_clash(tmp_path):
    from steadfast.continuity.downtime import queries, services

    gp, reception, manager, patients, slots = surgery(patients=10, slots=16)
    practice = gp.practice
    token = issue_node_token(practice, "front-desk")[1]
    central = Central(tmp_path / "central")
    node = Node(tmp_path / "node")
    try:
        node.run("node", "init", "--upstream", central.url, "--token", token)
        # The line between them is cut: the node works in downtime, the main system carries on.
        node.run("node", "downtime", "start")
        paused = node.run("node", "follow", "--once", check=False)
        assert paused.returncode != 0 and "downtime working" in paused.stderr
        node.shell(
            "from django.contrib.auth import get_user_model\n"
            "from django_scopes import scopes_disabled\n"
            "from steadfast.appointments import services as book\n"
            "from steadfast.patients.models import Patient\n"
            "with scopes_disabled():\n"
            f"    who = get_user_model().objects.get(pk={reception.pk})\n"
            f"    for slot, patient in zip({[str(s.pk) for s in slots[:6]]!r},"
            f" {[str(p.pk) for p in patients[:6]]!r}):\n"
            "        book.book_appointment(slot, Patient.objects.get(pk=patient), who)\n"
        )
        with scopes_disabled():
            for slot, patient in zip(slots[3:7], patients[6:10], strict=True):
                book.book_appointment(slot.pk, patient, manager)

        summary = _summary(node.run("node", "reconcile").stdout)
        assert summary == {**summary, "entries": 6, "merged": 3, "conflicts": 3, "lost": 0}

        with scopes_disabled():
            clashes = list(ReceivedEntry.objects.filter(status=EntryStatus.CONFLICT))
            assert len(clashes) == 3
            for clash in clashes:
                nearest = queries.nearest_free_slots(clash.data["slot"], practice.pk)
                services.book_elsewhere(clash, nearest[0].pk, manager)
            assert not ReceivedEntry.objects.filter(status=EntryStatus.CONFLICT).exists()
            live = Appointment.objects.filter(practice=practice).exclude(
                status=AppointmentStatus.CANCELLED
            )
            # Every patient of both sides has exactly one booking; no slot holds two.
            assert sorted(a.patient_id for a in live) == sorted(p.pk for p in patients)
            assert len({a.slot_id for a in live}) == live.count() == 10
        before = _central_counts(practice)
        again = _summary(node.run("node", "reconcile").stdout)
        assert again["entries"] == 6 and again["lost"] == 0
        assert _central_counts(practice) == before
    finally:
        central.stop()
