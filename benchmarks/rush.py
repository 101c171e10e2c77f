"""The 8 a.m. rush: 300 receptionists try to book a practice's 200 same-day slots, released at
once, through the web pages; and, in the same run, the same booking transaction done directly in
SQL through psycopg, as the reference rate.

Runs on PostgreSQL: DATABASE_URL when set (the benchmark adds a practice of its own there, so give
it a scratch database), otherwise a throwaway server started as the tests do. It migrates the
database, builds the practice, starts `steadfast serve` on 127.0.0.1 (the only address it sends
traffic to) and stops it at the end. Last line:
`rush: slots=200 booked=N double=N errors=N p50_ms=N p99_ms=N rate=N/s sql_rate=N/s ratio=R`.

Each of the 300 clients is one receptionist's browser, doing what a person does:
- Before the rush (not timed) it is signed in, has found its patient (the patient search is not
  timed) and has pressed "Book an appointment" on the patient's page: the day's appointment book
  is open for that patient, with a Book button in each of the 200 free slots. The sessions are
  made by Django's own `login()` in this process, as the test client's force_login does: the same
  session, audit entry and activity stamp as the login page gives, without 300 Argon2 checks (a
  quarter of a second of CPU each here).
- When the rush starts it presses Book in one of the free slots its book shows, at random. The
  page's htmx sends that as a POST and puts the answer in place: the booked cell and "Booked <its
  patient>...", or "That slot is no longer available" with the free slots nearest it, each with
  its own Book button. Having lost the race, it presses Book on one of those, at random (the
  patient's choice), until it has booked or none is left.
So every attempt costs the server one POST, answered with a fragment of the page rather than the
whole book; that is what reception's browsers ask of it at 8 a.m.

Figures: p50_ms and p99_ms are the latencies of the booking POSTs (to the answer); rate is
bookings per second from the first POST to the last successful one; booked and double are
counted in the database afterwards (double: slots holding more than one live appointment);
errors are 5xx or other unexpected responses, connection failures, and any difference between
what the clients were told and what the database holds. sql_rate times the transaction that
`book_appointment` makes (claim the slot with a conditional UPDATE, insert the appointment,
append its entry to the audit chain, insert the appointment event, commit) from as many
connections as the server has threads, over 4,000 other free slots. ratio is rate / sql_rate.
Before the last line: the CPU the rush cost the server, PostgreSQL and these clients (Linux
/proc), and a timeline by quarter-second (answers, wins, median latency): where the time went.
"""

import argparse
import asyncio
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
from harness import free_port, percentile, process_stat, stop_server
from markupsafe import escape
from yarl import URL

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SLOTS = 200
CLIENTS = 300
CLINICIANS = 10
RECEPTIONISTS = 10
PATIENTS = 1000
SQL_SLOTS = 4000
RUSH_TIMEOUT = 120  # seconds for the whole rush, however it goes
ATTEMPTS_PER_CLIENT = 50
BOOK_BUTTON = re.compile(r'hx-post="/appointments/slots/([0-9a-f-]{36})/book/"')
CSRF_HEADER = re.compile(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'')
SLOT_GONE = "That slot is no longer available"


@dataclass
class RushPractice:
    id: str
    ods_code: str
    day: str  # ISO date of the rush slots
    rush_slot_ids: list[str]
    sql_slot_ids: list[str]
    patient_ids: list[str]
    patient_names: list[str]  # listing names, as the booking message gives them
    receptionist_ids: list[int]


# --- the practice ------------------------------------------------------------------------------


def build_practice() -> RushPractice:
    """A practice with clinicians, receptionists, patients and free, released slots.

    SLOTS slots later today, all released a minute ago, for the rush; SQL_SLOTS on later days
    for the reference. Needs Django set up on DATABASE_URL.
    """
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone
    from django_scopes import scopes_disabled
    from faker import Faker

    from steadfast.accounts.models import Role, User
    from steadfast.appointments.models import Slot
    from steadfast.patients.models import Patient, Sex
    from steadfast.patients.nhs_numbers import synthetic_nhs_numbers
    from steadfast.practices.models import Practice

    fake = Faker("en_GB")
    fake.seed_instance(8)
    rng = random.Random(8)
    now = timezone.now()
    with scopes_disabled(), transaction.atomic():
        taken = set(Practice.objects.values_list("ods_code", flat=True))
        ods = next(c for c in (f"Y{n:05d}" for n in range(80000, 100000)) if c not in taken)
        practice = Practice.objects.create(
            name="Rush Hour Surgery",
            ods_code=ods,
            address_line1="1 Market Street",
            town="Leeds",
            postcode="LS1 6DT",
        )

        def staff(name: str, role: str, password: str, title: str = "") -> User:
            return User.objects.create(
                username=f"{ods.lower()}-{name}",
                first_name=fake.first_name(),
                last_name=fake.last_name(),
                title=title,
                role=role,
                practice=practice,
                password=password,
            )

        clinicians = [staff(f"gp{i}", Role.GP, "!", "Dr") for i in range(CLINICIANS)]
        hashed = make_password(fake.password(length=20))  # once: Argon2 is slow on purpose
        receptionists = [
            staff(f"reception{i}", Role.RECEPTIONIST, hashed) for i in range(RECEPTIONISTS)
        ]

        patients, seen = [], set()
        nhs_numbers = synthetic_nhs_numbers(start=rng.randrange(100_000))
        while len(patients) < PATIENTS:
            given, family = fake.first_name(), fake.last_name()
            if (given, family) in seen:
                continue  # each client must know its own patient in the booking message
            seen.add((given, family))
            patient = Patient(
                practice=practice,
                nhs_number=next(nhs_numbers),
                given_name=given,
                family_name=family,
                date_of_birth=fake.date_of_birth(minimum_age=1, maximum_age=95),
                sex=rng.choice([Sex.FEMALE, Sex.MALE]),
                address_line1=fake.street_address(),
                town="Leeds",
                postcode="LS1 6DT",
                registered_on=fake.date_between("-20y", "-1d"),
            )
            patient.refresh_search_keys()  # bulk_create skips save()
            patients.append(patient)
        Patient.objects.bulk_create(patients, batch_size=1000)

        released = now - timedelta(minutes=1)
        starts, length = _rush_starts(now)
        rush = [
            Slot(practice=practice, clinician=c, start=s, end=s + length, embargoed_until=released)
            for s in starts
            for c in clinicians
        ][:SLOTS]
        five = timedelta(minutes=5)
        later = [
            Slot(practice=practice, clinician=c, start=s, end=s + five, embargoed_until=released)
            for s in _later_starts(now, -(-SQL_SLOTS // CLINICIANS))
            for c in clinicians
        ][:SQL_SLOTS]
        Slot.objects.bulk_create(rush + later, batch_size=2000)
    return RushPractice(
        id=str(practice.pk),
        ods_code=ods,
        day=timezone.localtime(starts[0]).date().isoformat(),
        rush_slot_ids=[str(s.pk) for s in rush],
        sql_slot_ids=[str(s.pk) for s in later],
        patient_ids=[str(p.pk) for p in patients],
        patient_names=[p.listing_name for p in patients],
        receptionist_ids=[u.pk for u in receptionists],
    )


def _rush_starts(now: datetime) -> tuple[list[datetime], timedelta]:
    """Start times and length of the rush slots: later today in London, one row per time.

    Ten-minute slots when the day has room for them, shorter ones late in the evening, and
    tomorrow morning's only in the last minutes before midnight.
    """
    from django.utils import timezone

    local = timezone.localtime(now)
    rows = -(-SLOTS // CLINICIANS)
    first = (local + timedelta(minutes=15)).replace(second=0, microsecond=0)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    minutes = min(10, int((midnight - first).total_seconds() // 60) // rows)
    if minutes < 1:
        first, minutes = midnight.replace(hour=8), 10
    length = timedelta(minutes=minutes)
    return [first + i * length for i in range(rows)], length


def _later_starts(now: datetime, count: int) -> list[datetime]:
    """`count` five-minute start times, 08:00 to 18:00, on the days after tomorrow."""
    from django.utils import timezone

    day = timezone.localtime(now).replace(hour=8, minute=0, second=0, microsecond=0)
    starts: list[datetime] = []
    day += timedelta(days=1)
    while len(starts) < count:
        day += timedelta(days=1)
        starts += [day + timedelta(minutes=5 * i) for i in range(120)]
    return starts[:count]


def sign_in(practice: RushPractice, count: int) -> list[str]:
    """Session keys of `count` signed-in sessions, spread over the practice's receptionists."""
    from django.conf import settings
    from django.test import Client

    from steadfast.accounts.models import User

    users = list(User.objects.filter(pk__in=practice.receptionist_ids))
    keys = []
    for n in range(count):
        client = Client()
        client.force_login(
            users[n % len(users)], backend="steadfast.accounts.sessions.SessionUserBackend"
        )
        keys.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    return keys


def ensure_chain_head(practice_id: str) -> None:
    """The SQL reference appends to the practice's audit chain, which needs its head row."""
    import psycopg

    from steadfast.audit.chain import GENESIS, head_signature

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        conn.execute(
            "INSERT INTO audit_chainhead (chain, last_seq, last_event_id, last_hash, signature,"
            " checkpoint_seq, checkpoint_at) VALUES (%s, 0, 0, %s, %s, 0, now())"
            " ON CONFLICT (chain) DO NOTHING",
            (practice_id, GENESIS, head_signature(practice_id, 0, 0, GENESIS)),
        )


def count_bookings(practice: RushPractice) -> tuple[int, int]:
    """(booked slots, slots with more than one live appointment) among the rush slots."""
    import psycopg

    slot_ids = [uuid.UUID(i) for i in practice.rush_slot_ids]
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        live = conn.execute(
            "SELECT count(a.id) FROM appointments_slot s LEFT JOIN appointments_appointment a"
            " ON a.slot_id = s.id AND a.status <> 'cancelled' WHERE s.id = ANY(%s) GROUP BY s.id",
            (slot_ids,),
        ).fetchall()
        marked = conn.execute(
            "SELECT count(*) FROM appointments_slot WHERE id = ANY(%s) AND status = 'booked'",
            (slot_ids,),
        ).fetchone()[0]
    booked = sum(1 for (n,) in live if n >= 1)
    if marked != booked:
        print(f"  {marked} slots are marked booked but {booked} hold an appointment")
    return booked, sum(1 for (n,) in live if n > 1)


# --- the server --------------------------------------------------------------------------------


def start_server(workers: int, threads: int, log: Path) -> tuple[subprocess.Popen, str]:
    """`steadfast serve` on a free port of 127.0.0.1; its own messages go to `log`."""
    port = free_port()
    with log.open("w") as log_file:
        proc = subprocess.Popen(
            [
                *(str(BIN / "steadfast"), "serve", "--bind", f"127.0.0.1:{port}", "--quiet"),
                *("--workers", str(workers), "--threads", str(threads)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    return proc, f"http://127.0.0.1:{port}"


async def wait_until_answering(base: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"steadfast serve exited with status {proc.returncode}")
            try:
                async with http.get(f"{base}/accounts/login/") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("steadfast serve did not answer within 60 seconds")


# --- the rush ----------------------------------------------------------------------------------


class Unexpected(Exception):
    pass


@dataclass
class Tally:
    posts: list[tuple[float, float, bool]] = field(default_factory=list)  # sent, answered, won
    pages: dict[str, int] = field(default_factory=dict)
    errors: int = 0

    def count(self, kind: str) -> None:
        self.pages[kind] = self.pages.get(kind, 0) + 1

    def error(self, n: int, exc: Exception) -> None:
        self.errors += 1
        if self.errors <= 5:
            print(f"  client {n}: {type(exc).__name__}: {exc}", flush=True)


async def receptionist(
    base: str,
    session_key: str,
    practice: RushPractice,
    n: int,
    ready: asyncio.Semaphore,
    start: asyncio.Event,
    tally: Tally,
    deadline: float,
) -> None:
    """Client n: book its patient into any free slot, as a person at a browser does."""
    rng = random.Random(n)
    patient_id = practice.patient_ids[n]
    booked_message = f"Booked {escape(practice.patient_names[n])} with "
    day_path = f"/appointments/?date={practice.day}&patient={patient_id}"
    jar = aiohttp.CookieJar(unsafe=True)
    jar.update_cookies({"sessionid": session_key}, URL(base))
    timeout = aiohttp.ClientTimeout(total=60)
    # A browser opens a new connection for a request after the server has closed an idle one
    # (gunicorn keeps them 2 s); an aiohttp client would send it on the closed one and fail.
    connector = aiohttp.TCPConnector(keepalive_timeout=1)
    async with aiohttp.ClientSession(
        base, cookie_jar=jar, timeout=timeout, connector=connector
    ) as http:
        try:
            tally.count("day view")
            async with http.get(day_path, allow_redirects=False) as r:
                book = await r.text()
                if r.status != 200:
                    raise Unexpected(f"GET {day_path}: HTTP {r.status}")
            csrf = CSRF_HEADER.search(book)
            if not csrf:
                raise Unexpected("no CSRF token on the day view")
        except (aiohttp.ClientError, TimeoutError, Unexpected) as exc:
            tally.error(n, exc)
            return
        finally:
            ready.release()
        headers = {"HX-Request": "true", "X-CSRFToken": csrf[1]}
        data = {"patient": patient_id, "reason": "Cough"}
        await start.wait()
        try:
            offered = BOOK_BUTTON.findall(book)
            for _ in range(ATTEMPTS_PER_CLIENT):
                if not offered or time.monotonic() > deadline:
                    return
                path = f"/appointments/slots/{rng.choice(offered)}/book/"
                tally.count("booking POST")
                sent = time.monotonic()
                async with http.post(path, data=data, headers=headers) as r:
                    answer = await r.text()
                    answered = time.monotonic()
                    if r.status != 200:
                        raise Unexpected(f"POST {path}: HTTP {r.status}")
                won = booked_message in answer
                if not won and SLOT_GONE not in answer:
                    raise Unexpected("the answer says neither booked nor taken")
                tally.posts.append((sent, answered, won))
                if won:
                    return
                offered = BOOK_BUTTON.findall(answer)  # the nearest free slots, if any
        except (aiohttp.ClientError, TimeoutError, Unexpected) as exc:
            tally.error(n, exc)


async def rush(
    base: str, proc: subprocess.Popen, practice: RushPractice, session_keys: list[str]
) -> Tally:
    await wait_until_answering(base, proc)
    tally = Tally()
    ready, start = asyncio.Semaphore(0), asyncio.Event()
    deadline = time.monotonic() + RUSH_TIMEOUT
    clients = [
        asyncio.create_task(receptionist(base, key, practice, n, ready, start, tally, deadline))
        for n, key in enumerate(session_keys)
    ]
    for _ in clients:
        await asyncio.wait_for(ready.acquire(), timeout=RUSH_TIMEOUT)
    print(f"  {len(clients)} receptionists have the book open; go", flush=True)
    tally.pages.clear()
    cpu_before = cpu_by_process()
    started = time.monotonic()
    start.set()
    await asyncio.wait_for(asyncio.gather(*clients), timeout=RUSH_TIMEOUT + 60)
    spent = cpu_split(cpu_before, cpu_by_process(), proc.pid)
    print("  CPU during the rush: " + ", ".join(f"{k} {v:.2f} s" for k, v in spent.items()))
    pages = ", ".join(f"{n} {kind}s" for kind, n in tally.pages.items())
    lost = sum(1 for *_, won in tally.posts if not won)
    print(f"  over in {time.monotonic() - started:.1f} s: {pages}; {lost} races lost", flush=True)
    return tally


def cpu_by_process() -> dict[int, tuple[str, int, float]]:
    """Each process on the machine: (name, parent pid, CPU seconds used so far)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = process_stat(int(entry.name))
            except OSError:
                continue  # the process has gone
    return found


def cpu_split(before: dict, after: dict, server_pid: int) -> dict[str, float]:
    """CPU seconds used between two `cpu_by_process` snapshots, by who used them: the server
    (steadfast serve and its workers), PostgreSQL, these clients, and the rest of the machine."""
    server = {server_pid}
    while grown := {p for p, (_, parent, _) in after.items() if parent in server} - server:
        server |= grown
    spent: dict[str, float] = {}
    for pid, (name, parent, used) in after.items():
        if pid in server:
            who = "steadfast serve"
        elif pid == os.getpid():
            who = "rush clients"
        elif name.startswith("postgres"):
            who = "postgres"
        else:
            who = "the rest"
        spent[who] = spent.get(who, 0.0) + used - before.get(pid, (name, parent, 0.0))[2]
    return spent


# --- the reference: the same transaction in SQL ------------------------------------------------


def sql_reference(practice: RushPractice, connections: int) -> float:
    """Bookings per second for `book_appointment`'s transaction in plain SQL."""
    import psycopg

    from steadfast.audit.chain import entry_hash, head_signature

    url = os.environ["DATABASE_URL"]
    practice_id = uuid.UUID(practice.id)
    user_id = practice.receptionist_ids[0]
    with psycopg.connect(url) as conn:
        (username,) = conn.execute(
            "SELECT username FROM accounts_user WHERE id = %s", (user_id,)
        ).fetchone()
    slot_ids = [uuid.UUID(s) for s in practice.sql_slot_ids]
    patients = [uuid.UUID(p) for p in practice.patient_ids]
    jobs = iter(range(len(slot_ids)))
    jobs_lock = threading.Lock()
    booked = [0] * connections
    start_line = threading.Barrier(connections + 1)

    def book(conn: psycopg.Connection, slot_id: uuid.UUID, patient_id: uuid.UUID) -> bool:
        now = datetime.now().astimezone()
        with conn.transaction():
            claimed = conn.execute(
                "UPDATE appointments_slot SET status = 'booked'"
                " WHERE id = %s AND practice_id = %s AND status = 'free' AND \"end\" > %s"
                " AND (embargoed_until IS NULL OR embargoed_until <= %s)",
                (slot_id, practice_id, now, now),
            ).rowcount
            if not claimed:
                return False
            appointment_id = uuid.uuid4()
            conn.execute(
                "INSERT INTO appointments_appointment (id, practice_id, slot_id, patient_id,"
                " status, reason, booked_by_id, booked_at, recorded_at, status_changed_at,"
                " cancelled_by, cancellation_reason, comment, version)"
                " VALUES (%s, %s, %s, %s, 'booked', 'Cough', %s, %s, %s, %s, '', '', '', 1)",
                (appointment_id, practice_id, slot_id, patient_id, user_id, now, now, now),
            )
            # The audit entry, chained as steadfast.audit.services.record chains it (the
            # checkpoint every few hundred entries left out: it is written after commit).
            last_seq, prev, event_id = conn.execute(
                "SELECT last_seq, last_hash,"
                " nextval(pg_get_serial_sequence('audit_auditevent', 'id'))"
                " FROM audit_chainhead WHERE chain = %s FOR UPDATE",
                (practice_id,),
            ).fetchone()
            entry = (
                *(practice_id, last_seq + 1, datetime.now().astimezone(), user_id, username),
                *("receptionist", practice_id, patient_id, "appointment_booked"),
                *(f"appointment {appointment_id}", "127.0.0.1", "allowed", prev),
            )
            digest = entry_hash(*entry)
            conn.execute(
                "WITH entry AS (INSERT INTO audit_auditevent (id, chain, seq, at, user_id,"
                " username, role, practice_id, patient_id, action, detail, source, outcome,"
                " prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                " %s, %s)) UPDATE audit_chainhead SET last_seq = %s, last_event_id = %s,"
                " last_hash = %s, signature = %s WHERE chain = %s",
                (
                    *(event_id, *entry, digest, last_seq + 1, event_id, digest),
                    head_signature(practice_id, last_seq + 1, event_id, digest),
                    practice_id,
                ),
            )
            conn.execute(
                "INSERT INTO appointments_appointmentevent (id, appointment_id, from_status,"
                " to_status, actor_id, occurred_at, recorded_at, note, back_entered, entered_via)"
                " VALUES (%s, %s, '', 'booked', %s, %s, %s, '', false, '')",
                (uuid.uuid4(), appointment_id, user_id, now, now),
            )
        return True

    def worker(k: int) -> None:
        with psycopg.connect(url) as conn:
            start_line.wait(timeout=60)
            while True:
                with jobs_lock:
                    job = next(jobs, None)
                if job is None:
                    return
                booked[k] += book(conn, slot_ids[job], patients[job % len(patients)])

    with ThreadPoolExecutor(max_workers=connections) as pool:
        futures = [pool.submit(worker, k) for k in range(connections)]
        start_line.wait(timeout=60)
        started = time.monotonic()
        for f in futures:
            f.result(timeout=600)
        elapsed = time.monotonic() - started
    if sum(booked) != len(slot_ids):
        raise RuntimeError(f"the SQL reference booked {sum(booked)} of {len(slot_ids)} slots")
    print(f"  {len(slot_ids)} bookings in {elapsed:.1f} s", flush=True)
    return len(slot_ids) / elapsed


# --- the run -----------------------------------------------------------------------------------


def print_timeline(tally: Tally, first_post: float, step: float = 0.25) -> None:
    """Posts answered, races won and their median latency in each quarter-second of the rush:
    where the time goes, the opening scramble or the hunt for the last free slots."""
    buckets: dict[int, list[tuple[float, bool]]] = {}
    for sent, answered, won in tally.posts:
        buckets.setdefault(int((answered - first_post) / step), []).append((answered - sent, won))
    for b in sorted(buckets):
        got = buckets[b]
        wins = sum(1 for _, won in got if won)
        p50 = percentile([latency * 1000 for latency, _ in got], 50)
        print(f"  {b * step:5.2f} s: {len(got):3d} answered, {wins:3d} won, p50 {p50:4.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description="The 8 a.m. rush: booking over HTTP vs SQL.")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--threads", type=int, default=2, help="threads a worker (default 2)")
    args = parser.parse_args()

    with ExitStack() as stack:
        os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 30)
        os.environ["STEADFAST_VAR_DIR"] = stack.enter_context(tempfile.TemporaryDirectory())
        os.environ["DJANGO_SETTINGS_MODULE"] = "steadfast.settings"
        sys.path.insert(0, str(ROOT))
        if "DATABASE_URL" not in os.environ:
            from steadfast.testing.postgres import ThrowawayPostgres

            os.environ["DATABASE_URL"] = stack.enter_context(ThrowawayPostgres(durable=True)).url
        print("rush: preparing a practice on PostgreSQL", flush=True)
        subprocess.run([str(BIN / "steadfast"), "migrate", "-v0"], check=True, timeout=600)
        import django

        django.setup()
        practice = build_practice()
        ensure_chain_head(practice.id)
        session_keys = sign_in(practice, CLIENTS)
        print(
            f"  practice {practice.ods_code}: {SLOTS} slots released on {practice.day},"
            f" {CLIENTS} receptionists signed in",
            flush=True,
        )

        print(f"rush: steadfast serve, {args.workers} workers x {args.threads} threads", flush=True)
        log = Path(os.environ["STEADFAST_VAR_DIR"]) / "serve.log"
        with ExitStack() as serving:
            server, base = start_server(args.workers, args.threads, log)
            serving.callback(stop_server, server)
            tally = asyncio.run(rush(base, server, practice, session_keys))
        if tally.errors:
            print("  the server's last words:", *log.read_text().splitlines()[-15:], sep="\n    ")
        booked, double = count_bookings(practice)

        connections = args.workers * args.threads
        print(f"rush: the booking transaction in SQL, {connections} connections", flush=True)
        sql_rate = sql_reference(practice, connections)

    wins = sorted(answered for _, answered, won in tally.posts if won)
    first_post = min((sent for sent, _, _ in tally.posts), default=0.0)
    rate = len(wins) / (wins[-1] - first_post) if wins else 0.0
    latencies = [(answered - sent) * 1000 for sent, answered, _ in tally.posts]
    print_timeline(tally, first_post)
    errors = tally.errors + abs(booked - len(wins))
    if booked != len(wins):
        print(f"  the clients were told of {len(wins)} bookings; the database holds {booked}")
    print(
        f"rush: slots={SLOTS} booked={booked} double={double} errors={errors}"
        f" p50_ms={percentile(latencies, 50):.0f} p99_ms={percentile(latencies, 99):.0f}"
        f" rate={rate:.0f}/s sql_rate={sql_rate:.0f}/s ratio={rate / sql_rate:.2f}"
    )


if __name__ == "__main__":
    main()
