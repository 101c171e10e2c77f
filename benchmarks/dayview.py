"""The day's pages reception keeps open: the day view (8 clinicians x 60 slots) and arrivals.

Runs on PostgreSQL: DATABASE_URL when set (it adds a practice of its own; give it a scratch
database), otherwise a throwaway durable server. One practice, 8 GPs with 60 ten-minute slots
each today from 08:00 (480 slots; a few urgent, telephone, video and online-only), most booked,
the morning's appointments finished, did-not-attend, in progress or arrived, the rest booked.
Free slots later than now carry a Book link (and, for the booking-for variant, a Book button);
which cells are over therefore depends on the time of day the benchmark runs.

Then, in this process through the full middleware stack (Django's test client, a receptionist
signed in with the second factor verified, as after the login pages), ROUNDS requests of each
page after WARMUP: the day view (`/appointments/?date=`), the day view booking for a patient
(`&patient=`: a Book button in each free slot) and arrivals (`/appointments/arrivals/?date=`).
Server time is the wall time around `client.get` (the test client has no network); CPU is
process time. Each page's query count is printed. Last line:
`dayview: clinicians=8 slots=480 day_p95_ms=N arrivals_p95_ms=N`
(day_p95_ms is the worse of the two day view variants).
"""

import argparse
import cProfile
import gc
import os
import pstats
import random
import statistics
import sys
import time
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path

from harness import benchmark_env, percentile, settle, steadfast

# This directory holds fhir.py, which would hide the `fhir` package (fhir.resources).
sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]

CLINICIANS = 8
SLOTS_EACH = 60
PATIENTS = 600
ROUNDS = 200
WARMUP = 20


def build() -> dict:
    """The practice, its staff, patients, today's slots and appointments."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone
    from django_scopes import scopes_disabled
    from faker import Faker

    from steadfast.accounts.models import Role, User
    from steadfast.appointments.models import Appointment, AppointmentStatus, Slot, SlotStatus
    from steadfast.patients.models import Patient, Sex
    from steadfast.patients.nhs_numbers import synthetic_nhs_numbers
    from steadfast.practices.models import DeliveryMode, Practice, ReservedFor, SlotType

    fake = Faker("en_GB")
    fake.seed_instance(60)
    rng = random.Random(60)
    now = timezone.now()
    today = timezone.localdate()
    with scopes_disabled(), transaction.atomic():
        practice = Practice.objects.create(
            name="Day View Surgery",
            ods_code="Y70060",
            address_line1="1 Church Lane",
            town="York",
            postcode="YO1 7HH",
        )
        clinicians = [
            User.objects.create(
                username=f"dayview-gp{c}",
                first_name=fake.first_name(),
                last_name=fake.last_name(),
                title="Dr",
                role=Role.GP,
                practice=practice,
                password="!",
            )
            for c in range(CLINICIANS)
        ]
        reception = User.objects.create(
            username="dayview-reception",
            first_name=fake.first_name(),
            last_name=fake.last_name(),
            role=Role.RECEPTIONIST,
            practice=practice,
            password=make_password(fake.password(length=20)),
        )
        numbers = synthetic_nhs_numbers(start=rng.randrange(100_000))
        patients = []
        for _ in range(PATIENTS):
            patient = Patient(
                practice=practice,
                nhs_number=next(numbers),
                title=rng.choice(["", "Mr", "Mrs", "Ms"]),
                given_name=fake.first_name(),
                family_name=fake.last_name(),
                date_of_birth=fake.date_of_birth(minimum_age=1, maximum_age=95),
                sex=rng.choice([Sex.FEMALE, Sex.MALE]),
                address_line1=fake.street_address(),
                town="York",
                postcode="YO1 7HH",
                registered_on=fake.date_between("-20y", "-1d"),
            )
            patient.refresh_search_keys()  # bulk_create skips save()
            patients.append(patient)
        Patient.objects.bulk_create(patients)

        eight = datetime.combine(today, datetime.min.time(), tzinfo=timezone.get_current_timezone())
        eight += timedelta(hours=8)
        ten = timedelta(minutes=10)
        slots = []
        for c in clinicians:
            for n in range(SLOTS_EACH):
                start = eight + n * ten
                slots.append(
                    Slot(
                        practice=practice,
                        clinician=c,
                        start=start,
                        end=start + ten,
                        slot_type=SlotType.URGENT if n % 12 == 5 else SlotType.ROUTINE,
                        delivery_mode=(
                            DeliveryMode.TELEPHONE
                            if n % 9 == 4
                            else DeliveryMode.VIDEO
                            if n % 17 == 3
                            else DeliveryMode.FACE_TO_FACE
                        ),
                        reserved_for=ReservedFor.ONLINE if n % 15 == 7 else ReservedFor.NONE,
                    )
                )
        appointments = []
        for k, slot in enumerate(slots):
            if rng.random() >= 0.8:  # four in five booked
                continue
            if slot.end < now - timedelta(minutes=30):
                status = AppointmentStatus.DID_NOT_ATTEND if k % 13 == 0 else "finished"
            elif slot.start < now + timedelta(minutes=20):
                status = AppointmentStatus.IN_PROGRESS if k % 2 else AppointmentStatus.ARRIVED
            else:
                status = AppointmentStatus.ARRIVED if k % 7 == 0 else AppointmentStatus.BOOKED
            slot.status = SlotStatus.BOOKED
            appointments.append(
                Appointment(
                    practice=practice,
                    slot=slot,
                    patient=patients[k % PATIENTS],
                    status=status,
                    reason=fake.sentence(nb_words=4),
                    booked_by=reception,
                    booked_at=now - timedelta(days=3),
                    status_changed_at=now - timedelta(days=3),
                )
            )
        Slot.objects.bulk_create(slots)
        Appointment.objects.bulk_create(appointments)
    return {
        "practice": practice,
        "reception": reception,
        "day": today.isoformat(),
        "booking_for": patients[-1],
        "booked": len(appointments),
    }


def signed_in_client(user):
    """A test client signed in as `user` with a verified authenticator app in the session."""
    from django.conf import settings
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client = Client()
    client.force_login(user, backend=settings.AUTHENTICATION_BACKENDS[-1])
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def measure(client, url: str, rounds: int, profile: cProfile.Profile | None) -> dict:
    """Wall and CPU ms per request, the queries of the last, for `rounds` after WARMUP."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    wall, cpu, collections = [], [], gc_pauses()
    for n in range(WARMUP + rounds):
        measured = n >= WARMUP
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            if profile and measured:
                profile.enable()
            response = client.get(url)
            if profile:
                profile.disable()
            spent, spent_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        if measured:
            wall.append(spent * 1000)
            cpu.append(spent_cpu * 1000)
    return {
        "wall": wall,
        "cpu": cpu,
        "queries": len(captured),
        "sql": [q["sql"] for q in captured.captured_queries],
        "bytes": len(response.content),
        "text": response.content.decode(),
        "gc": collections,
    }


def gc_pauses() -> list[float]:
    """Milliseconds of each full (generation 2) garbage collection from now on."""
    pauses, started = [], []

    def timed(phase, info):
        if info["generation"] == 2:
            if phase == "start":
                started[:] = [time.perf_counter()]
            else:
                pauses.append((time.perf_counter() - started[0]) * 1000)

    gc.callbacks[:] = [c for c in gc.callbacks if getattr(c, "__name__", "") != "timed"]
    gc.callbacks.append(timed)
    return pauses


def main() -> None:
    parser = argparse.ArgumentParser(description="Day view and arrivals, server time a request.")
    parser.add_argument(
        "--profile", action="store_true", help="print each page's SQL and a cProfile summary"
    )
    parser.add_argument(
        "--no-freeze", action="store_true", help="measure without the server's gc.freeze()"
    )
    parser.add_argument("--save", type=Path, help="write each page's HTML into this folder")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"default {ROUNDS}")
    args = parser.parse_args()

    with ExitStack() as stack:
        env = benchmark_env(stack)
        os.environ.update(env)
        print("dayview: preparing a practice on PostgreSQL", flush=True)
        steadfast(env, "migrate", "-v0")
        import django

        django.setup()
        from django.conf import settings

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        built = build()
        settle(env)
        client = signed_in_client(built["reception"])
        if not args.no_freeze:
            # As a server worker does once it has loaded (steadfast/wsgi.py); here the practice
            # just built and this process's imports are the long-lived part of the heap.
            from steadfast.wsgi import settle_heap

            settle_heap()
        day, patient = built["day"], built["booking_for"]
        pages = {
            "day": f"/appointments/?date={day}",
            "day_booking_for": f"/appointments/?date={day}&patient={patient.pk}",
            "arrivals": f"/appointments/arrivals/?date={day}",
        }
        print(
            f"dayview: {CLINICIANS} clinicians x {SLOTS_EACH} slots, {built['booked']} booked;"
            f" {args.rounds} requests a page after {WARMUP}; load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        results = {}
        for name, url in pages.items():
            profiler = cProfile.Profile() if args.profile else None
            results[name] = found = measure(client, url, args.rounds, profiler)
            print(
                f"  {name}: p50 {percentile(found['wall'], 50):.1f} ms, p95"
                f" {percentile(found['wall'], 95):.1f} ms, cpu median"
                f" {statistics.median(found['cpu']):.1f} ms, {found['queries']} queries,"
                f" {found['bytes'] // 1024} KiB, {found['text'].count('sf-slot ')} cells,"
                f" {found['text'].count('>Book<')} Book buttons; {len(found['gc'])} full GCs"
                f" ({sum(found['gc']):.0f} ms)",
                flush=True,
            )
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"{name}.html").write_text(found["text"])
            if profiler:
                print(f"  {name}: the last request's SQL")
                for sql in found["sql"]:
                    print(f"    {sql[:160]}")
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        print(f"  load {os.getloadavg()[0]:.1f}", flush=True)

    day_p95 = max(percentile(results[k]["wall"], 95) for k in ("day", "day_booking_for"))
    arrivals_p95 = percentile(results["arrivals"]["wall"], 95)
    print(
        f"dayview: clinicians={CLINICIANS} slots={CLINICIANS * SLOTS_EACH}"
        f" day_p95_ms={day_p95:.0f} arrivals_p95_ms={arrivals_p95:.0f}"
    )


if __name__ == "__main__":
    main()
