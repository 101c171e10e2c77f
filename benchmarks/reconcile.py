"""Reconciliation after downtime: ENTRIES journal entries sent from a practice node.

Runs the central server on PostgreSQL (DATABASE_URL when set, it must be a scratch database;
otherwise a throwaway durable server) with the demo practice (PATIENTS patients), serves it
(`steadfast serve`, 2 workers), and sets up a node (`steadfast node init`, SQLite). Then, as a
large practice's morning of downtime would:

1. The central server takes CLASHES bookings the node has not copied (inside the follow lag):
   the same slots the node will book first.
2. `steadfast node downtime start`; on the node, receptionists book free slots, mark arrivals,
   and clinicians record consultations with an observation (and now and then a medicine issued
   on paper), a temporary patient now and then, until the journal holds ENTRIES entries.
3. `steadfast node reconcile` sends them all (timed); then again, which must change nothing.

Last line (the command's own): `reconcile: entries=N merged=N conflicts=N lost=0 rate=N/s`,
rate being entries sent per second. Target: over 50 entries/s.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from harness import benchmark_env, settle, start_server, steadfast, stop_server

# Run in the node's shell: a morning of downtime, ENTRIES journal entries long.
MORNING = """
import datetime, itertools
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_scopes import scopes_disabled
from steadfast.appointments import services as book
from steadfast.appointments.models import Slot
from steadfast.errors import DomainError
from steadfast.continuity.downtime.models import JournalEntry
from steadfast.patients import services as patients
from steadfast.patients.models import Patient
from steadfast.records import services as records
from steadfast.records.models import Concept

User = get_user_model()
wanted = {entries}
with scopes_disabled():
    reception = User.objects.get(username="demo-reception")
    gps = list(User.objects.filter(role="gp"))
    medicine = Concept.objects.get(code="323510009")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    slots = iter(Slot.objects.filter(status="free", start__date__gte=tomorrow,
                                     clinician__in=gps).order_by("start", "clinician_id"))
    people = itertools.cycle(Patient.objects.filter(registration_status="registered")[:3000])
    count = lambda: JournalEntry.objects.count()
    n = 0
    while count() < wanted:
        n += 1
        patient = next(people)
        slot = next(slots)
        if n % 50 == 0:
            patient = patients.register_patient(reception.practice, dict(
                given_name="Visitor", family_name="Vis" + "".join(
                    chr(97 + (n // 26 ** k) % 26) for k in range(3)),
                date_of_birth=datetime.date(1990, 1, 1 + n % 28), sex="male",
                address_line1="1 Station Road", postcode="LS1 4AP"), reception,
                confirmed_not_duplicate=True)
        try:
            appt = book.book_appointment(slot.pk, patient, reception, reason="Downtime")
        except DomainError:
            continue
        if count() >= wanted:
            break
        book.mark_arrived(appt, reception)
        if count() >= wanted or n % 3 == 0:
            continue
        gp = slot.clinician
        meds = [records.NewMedication(medicine, "acute", "One three times a day", 15)]
        meds = meds if n % 7 == 0 else []
        try:  # a medicine the patient is allergic to is refused here as anywhere
            records.save_consultation(patient, gp, records.ConsultationNote(
                "face_to_face", history="Seen in downtime.",
                observations=[records.NewObservation("pulse", str(60 + n % 40))],
                medications=meds), appointment=appt)
        except DomainError:
            pass
    print(count(), "entries")
"""


def _clash(base: str, token: str, count: int) -> int:
    """Book, on the central server, the first free slots the node will book."""
    day = time.strftime("%Y-%m-%d", time.localtime(time.time() + 86400))
    request = urllib.request.Request(
        f"{base}/fhir/Slot?status=free&start=ge{day}&_count=200",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        slots = [e["resource"] for e in json.loads(response.read()).get("entry", [])]
    slots.sort(key=lambda s: (s["start"], s["schedule"]["reference"]))
    patients = urllib.request.Request(
        f"{base}/fhir/Patient?family=b&_count=50", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(patients, timeout=60) as response:
        people = [e["resource"]["id"] for e in json.loads(response.read()).get("entry", [])]
    booked = 0
    for slot, patient in zip(slots[:count], people, strict=False):
        body = {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{slot['id']}"}],
            "participant": [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"}],
        }
        request = urllib.request.Request(
            f"{base}/fhir/Appointment",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"},
        )
        with urllib.request.urlopen(request, timeout=60):
            booked += 1
    return booked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--clashes", type=int, default=10)
    args = parser.parse_args()

    with ExitStack() as stack:
        env = benchmark_env(stack)
        steadfast(env, "migrate", "--no-input")
        steadfast(env, "demo", "--patients", str(args.patients))
        settle(env)
        token = steadfast(
            env, "continuity", "node-token", "--practice", "Y99999", "--name", "bench"
        )
        staff_token = steadfast(env, "token", "demo-reception").strip()
        server, base = start_server(env, workers=2)
        stack.callback(stop_server, server)

        node_dir = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "node"
        node_env = {k: v for k, v in env.items() if k not in ("DATABASE_URL", "STEADFAST_VAR_DIR")}
        node_env |= {"STEADFAST_NODE": "1", "STEADFAST_VAR_DIR": str(node_dir)}
        print(steadfast(node_env, "node", "init", "--upstream", base, "--token", token.strip()))
        clashes = _clash(base, staff_token, args.clashes)
        print(f"{clashes} bookings made centrally inside the follow lag", flush=True)

        steadfast(node_env, "node", "downtime", "start")
        started = time.monotonic()
        try:
            made = steadfast(node_env, "shell", "-c", MORNING.format(entries=args.entries))
        except subprocess.CalledProcessError as exc:
            sys.exit(f"the downtime morning failed: {exc.stderr[-3000:]}")
        made = made.strip().splitlines()[-1]
        print(f"{made} made on the node in {time.monotonic() - started:.0f} s", flush=True)

        started = time.monotonic()
        first = steadfast(node_env, "node", "reconcile").strip().splitlines()
        print("\n".join(first[:-1]))
        print(
            f"reconcile command (with taking the central copy again): "
            f"{time.monotonic() - started:.1f} s",
            flush=True,
        )
        second = steadfast(node_env, "node", "reconcile").strip().splitlines()
        print(f"second run: {second[-1]}", flush=True)
        if "lost=0" not in first[-1] or "lost=0" not in second[-1]:
            sys.exit("reconcile: entries were lost")
        print(first[-1])


if __name__ == "__main__":
    main()
