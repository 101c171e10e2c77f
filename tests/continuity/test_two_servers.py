"""Two live servers: the central server on PostgreSQL and a practice node on SQLite.

Eight receptionists and clinicians book, cancel, arrive and record consultations on the central
server while the node follows; once they stop and the node has caught up, every replicated table
on the node equals the central one row for row (within the practice), and nothing of a second
practice is there. Staff then sign in to the node with their usual password and code.
"""

import contextlib
import io
import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from steadfast.accounts.models import Role
from steadfast.appointments import services as book
from steadfast.appointments.models import Appointment, AppointmentStatus, Slot, SlotStatus
from steadfast.continuity import services as packs
from steadfast.continuity.node.tokens import issue_node_token, revoke_node_token
from steadfast.errors import DomainError
from steadfast.records import services as records
from steadfast.records.models import Consultation, Medication
from tests.continuity.conftest import PASSPHRASE, opened
from tests.continuity.servers import Central, Node
from tests.factories import GPFactory, PatientFactory, SlotFactory, UserFactory, london, tomorrow
from tests.fhir.history import NO_KNOWN_DRUG_ALLERGY, full_record
from tests.records.entries import (
    AMLODIPINE_5MG,
    CARES_FOR_A_RELATIVE,
    ESSENTIAL_HYPERTENSION,
    concept,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 8
ROUNDS = 12
REPLICATED = [
    "practices.Practice",
    "accounts.User",
    "otp_totp.TOTPDevice",
    "patients.Patient",
    "appointments.Slot",
    "appointments.Appointment",
    "appointments.AppointmentEvent",
    "records.Consultation",
    "records.Problem",
    "records.Observation",
    "records.Medication",
    "records.Allergy",
    "records.Immunisation",
    "records.Document",
    "records.PatientFlag",
    "records.NoKnownAllergies",
    "records.MedicationIssue",
    "records.ConsultationVersion",
]
LOCAL = {
    "appointments.slot": {"session_template"},
    "appointments.appointment": {"idempotency_key"},
}
PASSWORD = "a-long-node-password"  # pragma: allowlist secret


def _writer(seed: int, practice, staff: list, gp, stop: threading.Event) -> int:
    """One member of staff's morning: book, cancel, arrive, consult, in random order."""
    rng = random.Random(seed)
    done = 0
    try:
        with scopes_disabled():
            for _ in range(ROUNDS):
                if stop.is_set():
                    break
                actor = rng.choice(staff)
                # DomainError: beaten to it by another writer, and the database decided.
                with contextlib.suppress(DomainError):
                    done += _one_action(rng, practice, actor, gp)
    finally:
        connection.close()
    return done


def _one_action(rng, practice, actor, gp) -> int:
    action = rng.choice(["book", "book", "cancel", "arrive", "consult", "record"])
    if action == "record":
        return _one_record_entry(rng, practice, gp)
    if action == "book":
        slot = Slot.objects.filter(practice=practice, status=SlotStatus.FREE).order_by("?").first()
        patient = rng.choice(list(practice_patients(practice)))
        book.book_appointment(slot.pk, patient, actor, reason="Review")
        return 1
    status = AppointmentStatus.ARRIVED if action == "consult" else AppointmentStatus.BOOKED
    appointment = (
        Appointment.objects.filter(practice=practice, status=status)
        .select_related("patient")
        .order_by("?")
        .first()
    )
    if appointment is None:
        return 0
    if action == "cancel":
        book.cancel_appointment(appointment, "patient", "Feeling better", actor)
    elif action == "arrive":
        book.mark_arrived(appointment, actor)
    else:
        problems = [records.NewProblem(concept(ESSENTIAL_HYPERTENSION))] * rng.randint(0, 1)
        records.save_consultation(
            appointment.patient,
            gp,
            records.ConsultationNote(
                "face_to_face", history="Seen.", plan="Rest.", problems=problems
            ),
            appointment=appointment,
        )
    return 1


def _one_record_entry(rng, practice, gp) -> int:
    """A clinician's entry a node must hold for downtime: an alert, "no known allergies", a
    repeat and its issues, a corrected consultation."""
    patient = rng.choice(list(practice_patients(practice)))
    what = rng.choice(["flag", "nka", "repeat", "issue", "edit"])
    if what == "flag":
        records.add_flag(patient, gp, concept(CARES_FOR_A_RELATIVE), note="Her mother")
    elif what == "nka":
        coded = concept(NO_KNOWN_DRUG_ALLERGY) if rng.random() < 0.5 else None
        records.record_no_known_allergies(patient, gp, concept=coded)
    elif what == "repeat":
        new = records.NewMedication(
            concept(AMLODIPINE_5MG), "repeat", "One daily", 28, issues_allowed=6
        )
        records.prescribe(patient, gp, new)
    elif what == "issue":
        repeat = Medication.objects.filter(practice=practice, kind="repeat").order_by("?").first()
        if repeat is None:
            return 0
        records.issue_repeat(repeat, gp)
    else:
        seen = Consultation.objects.filter(practice=practice).order_by("?").first()
        if seen is None:
            return 0
        records.edit_consultation(
            seen, gp, reason="Wrong patient's note", expected_version=seen.version, history="Well."
        )
    return 1


def practice_patients(practice):
    from steadfast.patients.models import Patient

    return Patient.objects.filter(practice=practice)


def _central_dump() -> list[dict]:
    out = io.StringIO()
    call_command("dumpdata", *REPLICATED, "records.Concept", stdout=out)
    return json.loads(out.getvalue())


def _within(rows: list[dict], practice_id: str) -> dict[str, dict]:
    """The practice's rows by "model pk", concepts as their codes, local fields left out."""
    concepts = {r["pk"]: r["fields"]["code"] for r in rows if r["model"] == "records.concept"}
    users = {
        r["pk"]
        for r in rows
        if r["model"] == "accounts.user" and r["fields"]["practice"] == practice_id
    }
    appointments, consultations = (
        {r["pk"] for r in rows if r["model"] == model and r["fields"]["practice"] == practice_id}
        for model in ("appointments.appointment", "records.consultation")
    )
    kept = {}
    for r in rows:
        model, fields = r["model"], dict(r["fields"])
        if model == "records.concept":
            continue
        owner = (
            r["pk"]
            if model == "practices.practice"
            else fields.get("practice")
            or (practice_id if fields.get("user") in users else None)
            or (practice_id if fields.get("appointment") in appointments else None)
            or (practice_id if fields.get("consultation") in consultations else None)
        )
        if owner != practice_id:
            continue
        for name in LOCAL.get(model, ()):
            fields.pop(name, None)
        for name in ("concept", "substance", "reaction", "vaccine"):
            if fields.get(name) is not None:
                fields[name] = concepts[fields[name]]
        kept[f"{model} {r['pk']}"] = fields
    return kept


def test_a_node_following_eight_busy_writers_ends_equal_to_the_central_server(tmp_path):
    gp = GPFactory(username="dr-node")
    gp.password = PBKDF2PasswordHasher().encode(PASSWORD, "nodetestsalt")
    gp.save()
    device = TOTPDevice.objects.create(user=gp, name="phone", confirmed=True)
    practice = gp.practice
    staff = [gp, *(UserFactory(practice=practice, role=Role.RECEPTIONIST) for _ in range(3))]
    for _ in range(30):
        PatientFactory(practice=practice)
    day = tomorrow()
    for n in range(120):
        SlotFactory(clinician=gp, start=london(day, 8) + timedelta(minutes=5 * n))
    # Removed while the writers work. Blocked, so no writer can book it first: a booked slot
    # cannot be deleted (the test's own race, about one run in fifty).
    gone = SlotFactory(
        clinician=gp, start=london(day + timedelta(days=1), 8), status=SlotStatus.BLOCKED
    )
    # One of every kind of entry from the start: alerts, statements, issues, versions, links.
    extra = SlotFactory(clinician=gp, start=london(day + timedelta(days=2), 9))
    full_record(PatientFactory(practice=practice), gp, staff[1], extra)
    other = PatientFactory()  # a second practice, busy too
    other_gp = GPFactory(practice=other.practice)

    manager = UserFactory(practice=practice, role=Role.PRACTICE_MANAGER)
    packs.set_downtime_passphrase(practice, PASSPHRASE, manager)
    central_packs, node_packs = tmp_path / "central" / "packs", tmp_path / "node" / "packs"
    first_pack = packs.store_pack(practice, PASSPHRASE, folder=central_packs)  # as the worker

    central = Central(tmp_path / "central")
    node = Node(tmp_path / "node")
    try:
        token = issue_node_token(practice, "back-office")[1]
        node.run("node", "init", "--upstream", central.url, "--token", token)
        assert (tmp_path / "node").stat().st_mode & 0o777 == 0o700
        # The node keeps the central server's sealed pack; it opens with the passphrase, which
        # the node never had.
        assert [p.name for p in packs.stored_packs(practice, node_packs)] == [first_pack.name]
        assert opened((node_packs / first_pack.name).read_bytes())["register"]
        node.start_following()
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            work = [pool.submit(_writer, n, practice, staff, gp, stop) for n in range(WRITERS)]
            with scopes_disabled():
                Slot.objects.filter(pk=gone.pk).delete()  # a removed session's slot
                SlotFactory(clinician=other_gp)
                PatientFactory(practice=other.practice)
            done = sum(w.result() for w in work)
        node.stop_following()
        later = timezone.now() + timedelta(minutes=15)
        newer_pack = packs.store_pack(practice, PASSPHRASE, folder=central_packs, now=later)
        node.run("node", "follow", "--once")
        assert [p.name for p in packs.stored_packs(practice, node_packs)] == [newer_pack.name]

        assert done > WRITERS * ROUNDS // 3
        assert Appointment.objects.filter(practice=practice, status="cancelled").exists()
        central_rows = _within(_central_dump(), str(practice.pk))
        node_dump = node.dump([*REPLICATED, "records.Concept"])
        node_rows = _within(node_dump, str(practice.pk))
        assert node_rows.keys() == central_rows.keys()
        for key, fields in central_rows.items():
            assert node_rows[key] == fields, key
        assert f"appointments.slot {gone.pk}" not in node_rows
        # Nothing of the second practice, nor anything not the practice's, reached the node.
        assert len(_within(node_dump, str(practice.pk))) == len(
            [r for r in node_dump if r["model"] != "records.concept"]
        )
        assert str(other.pk) not in json.dumps(node_dump)

        status = node.run("node", "status").stdout
        assert "last error: none" in status and f"upstream: {central.url}" in status
        assert f"downtime pack: {newer_pack.name}" in status

        # Staff sign in to the node as to the central server: password, then their code.
        signed_in = node.shell(
            "from django.test import Client\n"
            "from django_otp.oath import totp\n"
            "from django_otp.plugins.otp_totp.models import TOTPDevice\n"
            "c = Client()\n"
            f"r = c.post('/accounts/login/', {{'username': 'dr-node', 'password': '{PASSWORD}'}},"
            " follow=True)\n"
            f"d = TOTPDevice.objects.get(pk={device.pk})\n"
            "code = f'{totp(d.bin_key, d.step, d.t0, d.digits, d.drift):06d}'\n"
            "r = c.post(r.redirect_chain[-1][0], {'code': code}, follow=True)\n"
            "print('Practice copy — updated' in r.content.decode(), r.status_code)\n"
        )
        assert signed_in.split()[-2:] == ["True", "200"]

        # A revoked token stops the node at once.
        revoke_node_token(token_row(practice))
        refused = node.run("node", "follow", "--once", check=False)
        assert refused.returncode != 0 and "401" in refused.stderr
        assert [p.name for p in packs.stored_packs(practice, node_packs)] == [newer_pack.name]
    finally:
        node.stop_following()
        central.stop()


def token_row(practice):
    from steadfast.continuity.node.models import NodeToken

    return NodeToken.objects.get(practice=practice, revoked_at__isnull=True)
