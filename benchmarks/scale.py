"""Scale: the screens reception and clinicians use most, with years of appointments behind them.

Loads --patients patients across --practices practices and about --appointments appointments
(slots eight clinicians a practice, 08:00 to 14:00 in 10-minute slots, on weekdays from about
three years back to a few weeks ahead; the appointments fill most past slots and some future
ones), on PostgreSQL: DATABASE_URL when set (a scratch database), otherwise a throwaway durable
server. Slot ids are time-ordered, made as a rota run makes them (ADR 0024). Patients go in
with COPY; slots and appointments are generated inside PostgreSQL
(INSERT ... SELECT over generate_series), so the load is bound by the database, not Python;
the load skips per-row triggers (the history feed's capture, foreign-key checks), so it needs a
superuser (the throwaway server's user is one).
Default is the issue's full size (1,000,000 patients, 100 practices, 20,000,000 appointments),
which takes long; smaller sizes are for a quick look. `--measure-only` measures again, without
loading, a DATABASE_URL it loaded before (give the same --practices).

Then, in this process through the full Django stack (test client, every middleware), ROUNDS
requests each, spread at random over practices, days and patients:
- day view: a receptionist's `/appointments/?date=` for a working day (8 clinicians x 36 slots);
- patient search: the search box (`/patients/?q=`), the start of a family name;
- free-slot search: the FHIR `Slot?status=free` search over one day, as an integrating system;
- record summary: a GP (second factor passed) opening a patient's summary page.
Last line: `scale: patients=N appointments=N day_p95_ms=N search_p95_ms=N slots_p95_ms=N
summary_p95_ms=N` (wall-clock server time a request, single client).
"""

import argparse
import os
import random
import sys
import time
import uuid
from contextlib import ExitStack
from datetime import date, timedelta
from itertools import islice
from pathlib import Path

from harness import benchmark_env, percentile, settle, steadfast

sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]

CLINICIANS = 8
SLOTS_A_DAY = 36  # 08:00 to 14:00, ten minutes each
ROUNDS = 200

# The app's slot ids (uuid_utils' uuid7) made in SQL: PostgreSQL 15 has no uuidv7().
UUID7_AT = """
    CREATE FUNCTION pg_temp.uuid7_at(at timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
        SELECT encode(set_byte(overlay(uuid_send(gen_random_uuid())
            PLACING substring(int8send(floor(extract(epoch FROM at) * 1000)::bigint) FROM 3)
            FROM 1 FOR 6), 6, (get_byte(uuid_send(gen_random_uuid()), 6) & 15) | 112), 'hex')::uuid
    $$
"""


def build(practices: int, patients: int, appointments: int) -> None:
    """Practices, staff, patients, slots and appointments."""
    import psycopg
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone
    from faker import Faker

    from steadfast.accounts.models import Role, User
    from steadfast.patients.names import name_key, postcode_key
    from steadfast.patients.nhs_numbers import synthetic_nhs_numbers
    from steadfast.practices.models import Practice

    fake = Faker("en_GB")
    fake.seed_instance(18)
    rng = random.Random(18)
    password = make_password("scale-benchmark-password")  # pragma: allowlist secret
    made = []
    for n in range(practices):
        practice = Practice.objects.create(
            name=f"Scale Surgery {n}",
            ods_code=f"Y{90000 + n:05d}",
            address_line1="1 High Street",
            town="Leeds",
            postcode="LS1 6DT",
        )
        staff = [
            User(
                username=f"scale{n}-gp{c}",
                role=Role.GP,
                practice=practice,
                title="Dr",
                first_name=fake.first_name(),
                last_name=fake.last_name(),
                password=password,
            )
            for c in range(CLINICIANS)
        ] + [User(username=f"scale{n}-reception", role=Role.RECEPTIONIST, practice=practice)]
        User.objects.bulk_create(staff)
        made.append(practice)
    print(f"  {practices} practices and their staff", flush=True)

    given = [fake.first_name() for _ in range(400)]
    family = [fake.last_name() for _ in range(800)]
    postcodes = [fake.postcode() for _ in range(2000)]
    # The 999 test range holds about 909,000 valid numbers, fewer than the full size's patients:
    # each practice's patients have distinct numbers, and numbers recur across practices.
    numbers = list(islice(synthetic_nhs_numbers(start=0), -(-patients // practices)))
    today = timezone.localdate()
    now = timezone.now()
    columns = (
        "id, practice_id, nhs_number, title, given_name, family_name, date_of_birth, sex,"
        " address_line1, address_line2, town, postcode, phone, email, registration_status,"
        " registered_on, is_sensitive, uk_core, given_name_key, family_name_key, postcode_key,"
        " recorded_at, updated_at, registration_end_reason"
    )
    url = os.environ["DATABASE_URL"]
    started = time.monotonic()
    with psycopg.connect(url) as conn:
        # A bulk load of generated, consistent rows: no per-row triggers (the FHIR history feed's
        # capture, foreign-key checks). The server is throwaway or a scratch database.
        conn.execute("SET session_replication_role = replica")
        with conn.cursor().copy(f"COPY patients_patient ({columns}) FROM STDIN") as copy:
            for i in range(patients):
                g, f, pc = rng.choice(given), rng.choice(family), rng.choice(postcodes)
                born = today - timedelta(days=rng.randrange(365, 95 * 365))
                copy.write_row(
                    (
                        uuid.uuid4(),
                        made[i % practices].pk,
                        numbers[i // practices],
                        "",
                        g,
                        f,
                        born,
                        rng.choice(("female", "male")),
                        f"{rng.randrange(1, 200)} Park Road",
                        "",
                        "Leeds",
                        pc,
                        "",
                        "",
                        "registered",
                        born + timedelta(days=rng.randrange(0, 365)),
                        False,
                        "{}",
                        name_key(g),
                        name_key(f),
                        postcode_key(pc),
                        now,
                        now,
                        "",
                    )
                )
        print(f"  {patients} patients in {time.monotonic() - started:.0f} s", flush=True)

        # Weekdays back from a few weeks ahead, enough that the booked share makes the total.
        per_practice_day = CLINICIANS * SLOTS_A_DAY
        days = max(20, -(-appointments // (practices * per_practice_day * 9 // 10)))
        weeks = -(-days // 5)
        last = today + timedelta(days=21)
        first = last - timedelta(weeks=weeks)
        started = time.monotonic()
        conn.execute(UUID7_AT)
        conn.execute(
            """
            INSERT INTO appointments_slot (id, practice_id, clinician_id, start, "end", slot_type,
                delivery_mode, reserved_for, status, embargoed_until, session_template_id,
                national_category)
            SELECT id, practice_id, clinician_id, t, t + interval '10 minutes',
                'routine', 'face_to_face', '',
                -- Nine in ten slots booked before now, a third of those from now on: decided
                -- here, so the slots are never updated after (an update of millions of rows
                -- took longer than the whole load at full size).
                CASE WHEN abs(hashtext(id::text)) %% 30 < CASE WHEN t < now() THEN 27 ELSE 9 END
                    THEN 'booked' ELSE 'free' END,
                NULL, NULL, %s
            FROM (
                -- Time-ordered ids, as a rota run six weeks ahead makes them (generate_slots:
                -- day by day, clinician by clinician, in time order).
                SELECT pg_temp.uuid7_at(d - interval '6 weeks' + make_interval(secs => u.id)
                    + k * interval '1 millisecond') AS id, u.practice_id, u.id AS clinician_id, t
                FROM accounts_user u
                CROSS JOIN generate_series(%s::date, %s::date, interval '1 day') AS d
                CROSS JOIN generate_series(0, %s - 1) AS k
                CROSS JOIN LATERAL (SELECT (d + time '08:00' + k * interval '10 minutes')
                    AT TIME ZONE 'Europe/London' AS t) AS at
                WHERE u.role = 'gp' AND u.username LIKE 'scale%%'
                  AND extract(isodow FROM d) < 6
            ) AS generated
            """,
            ("general_routine", first, last, SLOTS_A_DAY),
        )
        conn.execute(
            "CREATE TEMP TABLE numbered AS SELECT practice_id, id, row_number() OVER"
            " (PARTITION BY practice_id ORDER BY id) - 1 AS n, count(*) OVER"
            " (PARTITION BY practice_id) AS size FROM patients_patient"
        )
        conn.execute("CREATE INDEX ON numbered (practice_id, n)")
        # An appointment in each slot booked above, for a patient of the slot's practice.
        inserted = conn.execute(
            """
            WITH chosen AS (
                SELECT s.id AS slot_id, s.practice_id, s.start, s.clinician_id,
                    abs(hashtext(s.id::text)) AS h
                FROM appointments_slot s JOIN accounts_user u ON u.id = s.clinician_id
                WHERE u.username LIKE 'scale%' AND s.status = 'booked'
            )
            INSERT INTO appointments_appointment (id, practice_id, slot_id, patient_id, status,
                reason, booked_by_id, booked_at, recorded_at, status_changed_at, cancelled_by,
                cancellation_reason, comment, version)
            SELECT gen_random_uuid(), c.practice_id, c.slot_id, p.id,
                CASE WHEN c.start < now() THEN 'finished' ELSE 'booked' END,
                '', c.clinician_id, c.start - interval '7 days', c.start - interval '7 days',
                c.start, '', '', '', 1
            FROM chosen c
            JOIN (SELECT DISTINCT practice_id, size FROM numbered) z USING (practice_id)
            JOIN numbered p ON p.practice_id = c.practice_id AND p.n = c.h % z.size
            """
        )
        conn.commit()
        print(
            f"  {inserted.rowcount} appointments, {first} to {last},"
            f" in {time.monotonic() - started:.0f} s",
            flush=True,
        )


def loaded(practices: int) -> dict:
    """What the measurement needs of the database `build` loaded (now or on an earlier run):
    its practices, the days loaded, and how many patients and appointments it holds."""
    import psycopg
    from django.utils import timezone

    from steadfast.practices.models import Practice

    codes = [f"Y{90000 + n:05d}" for n in range(practices)]
    made = sorted(Practice.objects.filter(ods_code__in=codes), key=lambda p: p.ods_code)
    if len(made) != practices:
        raise SystemExit(f"{len(made)} of {practices} practices are loaded")
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        (count,) = conn.execute("SELECT count(*) FROM appointments_appointment").fetchone()
        (patients,) = conn.execute("SELECT count(*) FROM patients_patient").fetchone()
        # The days loaded, from the first practice's slots (every practice has the same days).
        first, last = conn.execute(
            "SELECT min(start), max(start) FROM appointments_slot WHERE practice_id = %s",
            (made[0].pk,),
        ).fetchone()
    first, last = timezone.localtime(first).date(), timezone.localtime(last).date()
    return {
        "practices": made,
        "first": first,
        "last": last,
        "patients": patients,
        "appointments": count,
    }


def measure(made: list, first: date, last: date) -> dict[str, list[float]]:
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_scopes import scopes_disabled

    from steadfast.accounts.models import User
    from steadfast.fhir.auth import make_token
    from steadfast.patients.models import Patient

    rng = random.Random(7)
    weekdays = [
        first + timedelta(days=d)
        for d in range((last - first).days)
        if (first + timedelta(days=d)).weekday() < 5
    ]
    timings: dict[str, list[float]] = {"day": [], "search": [], "slots": [], "summary": []}
    for n in range(ROUNDS + 10):
        practice = rng.choice(made)
        with scopes_disabled():
            reception = User.objects.get(username=f"scale{made.index(practice)}-reception")
            gp = User.objects.get(username=f"scale{made.index(practice)}-gp0")
            patient = Patient.objects.filter(practice=practice).order_by("id")[rng.randrange(100)]
        day = rng.choice(weekdays).isoformat()
        desk = Client()
        desk.force_login(reception)
        clinician = Client()
        clinician.force_login(gp)
        device, _ = TOTPDevice.objects.get_or_create(user=gp, name="app", confirmed=True)
        session = clinician.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        api = Client(HTTP_AUTHORIZATION=f"Bearer {make_token(reception)}")
        requests = [
            ("day", desk, "/appointments/", {"date": day}),
            ("search", desk, "/patients/", {"q": patient.family_name[:3]}),
            ("slots", api, "/fhir/Slot", {"status": "free", "start": [f"ge{day}", f"le{day}"]}),
            ("summary", clinician, f"/record/patients/{patient.pk}/", {}),
        ]
        for kind, client, path, params in requests:
            started = time.perf_counter()
            response = client.get(path, params)
            spent = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{kind} answered {response.status_code}")
            if n >= 10:  # the first few warm the connections and templates
                timings[kind].append(spent)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description="Day view, search, slots and summary at scale.")
    parser.add_argument("--practices", type=int, default=100)
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--appointments", type=int, default=20_000_000)
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="measure again a DATABASE_URL this benchmark loaded before (the same --practices)",
    )
    args = parser.parse_args()

    with ExitStack() as stack:
        env = benchmark_env(stack)
        os.environ.update(env)
        if not args.measure_only:
            print(
                f"scale: loading {args.patients} patients, {args.practices} practices, about"
                f" {args.appointments} appointments",
                flush=True,
            )
            # Not again on a loaded database: migrate reinstalls the history feed's capture,
            # which would log every row the load put in without it (tens of millions).
            steadfast(env, "migrate", "-v0")
        import django

        django.setup()
        from django.conf import settings

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        if not args.measure_only:
            build(args.practices, args.patients, args.appointments)
            settle(env)
        built = loaded(args.practices)
        print(f"scale: measuring, {ROUNDS} of each; load {os.getloadavg()[0]:.1f}", flush=True)
        timings = measure(built["practices"], built["first"], built["last"])

    p95 = {kind: percentile(values, 95) for kind, values in timings.items()}
    print("  p50 " + " ".join(f"{k}={percentile(v, 50):.0f}ms" for k, v in timings.items()))
    print(
        f"scale: patients={built['patients']} appointments={built['appointments']}"
        f" day_p95_ms={p95['day']:.0f} search_p95_ms={p95['search']:.0f}"
        f" slots_p95_ms={p95['slots']:.0f} summary_p95_ms={p95['summary']:.0f}"
    )


if __name__ == "__main__":
    main()
