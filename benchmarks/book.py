"""Booking throughput: 8 clients each book their own distinct free slots for 30 s, once through
the FHIR API and once through the page path reception uses (the htmx Book button of the day
view), against `steadfast serve` on PostgreSQL; then the cost of one won booking in-process.

Runs on PostgreSQL: DATABASE_URL when set (it adds a practice of its own; give it a scratch
database), otherwise a throwaway durable server. Traffic goes to 127.0.0.1 only. Last line:
`book: fhir_rate=N/s page_rate=N/s p99_ms=N double=N cpu_ms=N queries=N`.

- Each client is one receptionist: a bearer token for FHIR (`POST /fhir/Appointment`), a signed-in
  session for the page (it opens the day view with its patient chosen, untimed, then presses Book
  in slot after slot: one htmx POST each, answered with the booked cell and the banner). The
  clients' slots never overlap, so every POST should win; a loss or any other answer is an error.
- fhir_rate / page_rate: won bookings per second over the 30 s; p99_ms: the worse of the two
  paths' 99th percentile POST latency; double: slots holding more than one live appointment;
  every booking must have its `appointment_booked` audit entry (the run fails otherwise).
- cpu_ms and queries: one won booking through the full middleware stack in this process (Django's
  test client, CSRF enforced), median over PROBE_BOOKINGS, the worse of the two paths.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import rush
from harness import benchmark_env, percentile, process_stat, steadfast, stop_server
from markupsafe import escape
from yarl import URL

# This directory holds fhir.py, which would hide the `fhir` package (fhir.resources).
sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]
sys.path.append(str(Path(__file__).resolve().parent))

CLIENTS = 8
SECONDS = 30
SLOTS_PER_PATH = 12000  # more than 8 clients can book in 30 s at 400/s
PROBE_BOOKINGS = 40
PROBE_WARMUP = 5
FHIR_JSON = "application/fhir+json"
LOST = "page, race lost"  # the probe's third path: Book pressed on a slot just taken


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    won: int = 0
    errors: list[str] = field(default_factory=list)


def appointment_body(slot_id: str, patient_id: str) -> str:
    return json.dumps(
        {
            "resourceType": "Appointment",
            "status": "booked",
            "description": "Cough",
            "slot": [{"reference": f"Slot/{slot_id}"}],
            "participant": [
                {"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"}
            ],
        }
    )


async def fhir_client(base, token, patient_id, slots, start, clock, tally) -> None:
    headers = {"Authorization": f"Bearer {token}", "Accept": FHIR_JSON}
    async with aiohttp.ClientSession(base, headers=headers) as http:
        await start.wait()
        deadline = clock["deadline"]
        for slot_id in slots:
            if time.monotonic() >= deadline:
                return
            sent = time.monotonic()
            async with http.post(
                "/fhir/Appointment",
                data=appointment_body(slot_id, patient_id),
                headers={"Content-Type": FHIR_JSON},
            ) as r:
                await r.read()
                status = r.status
            tally.latencies_ms.append((time.monotonic() - sent) * 1000)
            if status != 201:
                tally.errors.append(f"FHIR booking answered {status}")
                return
            tally.won += 1


async def page_client(base, session_key, patient_id, name, day, slots, ready, start, clock, tally):
    jar = aiohttp.CookieJar(unsafe=True)
    jar.update_cookies({"sessionid": session_key}, URL(base))
    booked_message = f"Booked {escape(name)} with "
    async with aiohttp.ClientSession(base, cookie_jar=jar) as http:
        try:
            async with http.get(f"/appointments/?date={day}&patient={patient_id}") as r:
                csrf = rush.CSRF_HEADER.search(await r.text())
            if r.status != 200 or not csrf:
                tally.errors.append(f"day view answered {r.status}")
                return
        finally:
            ready.release()
        headers = {"HX-Request": "true", "X-CSRFToken": csrf[1]}
        data = {"patient": patient_id, "reason": "Cough"}
        await start.wait()
        deadline = clock["deadline"]
        for slot_id in slots:
            if time.monotonic() >= deadline:
                return
            sent = time.monotonic()
            async with http.post(
                f"/appointments/slots/{slot_id}/book/", data=data, headers=headers
            ) as r:
                answer = await r.text()
                status = r.status
            tally.latencies_ms.append((time.monotonic() - sent) * 1000)
            if status != 200 or booked_message not in answer:
                tally.errors.append(f"Book answered {status} without the booking")
                return
            tally.won += 1


async def run_path(make_clients) -> tuple[Tally, float]:
    """Start every client together once all are ready; (tally, seconds until the last ends)."""
    tally, ready, start, clock = Tally(), asyncio.Semaphore(0), asyncio.Event(), {}
    tasks = [asyncio.create_task(c) for c in make_clients(tally, ready, start, clock)]
    for _ in tasks:
        await asyncio.wait_for(ready.acquire(), timeout=60)
    started = time.monotonic()
    clock["deadline"] = started + SECONDS
    start.set()
    await asyncio.gather(*tasks)
    return tally, time.monotonic() - started


async def fhir_run(base, tokens, patients, slots) -> tuple[Tally, float]:
    def make(tally, ready, start, clock):
        for _ in range(CLIENTS):
            ready.release()  # nothing to open first
        return [
            fhir_client(base, tokens[k], patients[k], slots[k::CLIENTS], start, clock, tally)
            for k in range(CLIENTS)
        ]

    return await run_path(make)


async def page_run(base, keys, patients, names, day, slots) -> tuple[Tally, float]:
    def make(tally, ready, start, clock):
        return [
            page_client(
                *(base, keys[k], patients[k], names[k], day, slots[k::CLIENTS]),
                *(ready, start, clock, tally),
            )
            for k in range(CLIENTS)
        ]

    return await run_path(make)


def probe(
    practice, slots: dict[str, list[str]], profile: bool = False
) -> dict[str, tuple[float, int, float]]:
    """(median CPU ms, queries, PostgreSQL's CPU ms) of one won booking in this process, per path
    (and of one lost race on the page path); with `profile`,
    also the last booking's SQL and where the measured bookings' time went (cProfile)."""
    import cProfile
    import pstats

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scopes_disabled

    from steadfast.accounts.models import User
    from steadfast.fhir.auth import make_token

    with scopes_disabled():
        user = User.objects.get(pk=practice.receptionist_ids[0])
    patient_id, name = practice.patient_ids[CLIENTS], practice.patient_names[CLIENTS]
    results = {}

    page = Client(enforce_csrf_checks=True)
    page.force_login(user, backend=settings.AUTHENTICATION_BACKENDS[-1])
    book = page.get(f"/appointments/?date={practice.day}&patient={patient_id}").content.decode()
    headers = {"HX-Request": "true", "X-CSRFToken": rush.CSRF_HEADER.search(book)[1]}
    fhir = Client(HTTP_AUTHORIZATION=f"Bearer {make_token(user)}", HTTP_ACCEPT=FHIR_JSON)

    def page_book(slot_id):
        r = page.post(
            f"/appointments/slots/{slot_id}/book/",
            {"patient": patient_id, "reason": "Cough"},
            headers=headers,
        )
        return r.status_code == 200 and f"Booked {escape(name)} with " in r.content.decode()

    def fhir_book(slot_id):
        r = fhir.post(
            "/fhir/Appointment", appointment_body(slot_id, patient_id), content_type=FHIR_JSON
        )
        return r.status_code == 201

    def page_lose(slot_id):  # a slot the page path has booked: the rush's lost race
        r = page.post(
            f"/appointments/slots/{slot_id}/book/",
            {"patient": patient_id, "reason": "Cough"},
            headers=headers,
        )
        return r.status_code == 200 and "Not booked" in r.content.decode()

    paths = (("page", page_book, "page"), ("fhir", fhir_book, "fhir"), (LOST, page_lose, "page"))
    for path, book_one, slots_of in paths:
        cpu, queries = [], []
        profiler = cProfile.Profile(time.process_time)  # CPU, not waits on PostgreSQL
        for n, slot_id in enumerate(slots[slots_of]):
            measured = n >= PROBE_WARMUP
            if n == PROBE_WARMUP:
                server_before = backend_cpu(connection)
            with CaptureQueriesContext(connection) as captured:
                before = time.process_time()
                if profile and measured:
                    profiler.enable()
                won = book_one(slot_id)
                profiler.disable()
                spent = time.process_time() - before
            if not won:
                raise RuntimeError(f"in-process {path}: not the answer expected")
            if measured:
                cpu.append(spent * 1000)
                queries.append(len(captured))
        server_cpu = (backend_cpu(connection) - server_before) / len(cpu)
        results[path] = (statistics.median(cpu), max(queries), server_cpu)
        if profile:
            print(f"  {path}: the last booking's SQL")
            for q in captured.captured_queries:
                print(f"    {q['sql'][:160]}")
            order = os.environ.get("PROFILE_SORT", "cumulative")  # or tottime
            pstats.Stats(profiler).sort_stats(order).print_stats(45)
    return results


def backend_cpu(connection) -> float:
    """CPU ms PostgreSQL's backend for this connection has used so far (it runs on this
    machine): what a request costs the database, beside its queries and our own CPU."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    return process_stat(pid)[2] * 1000


def audit_gaps(practice) -> tuple[int, int, int]:
    """(appointments, appointment_booked audit entries, slots with >1 live appointment)."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        (booked,) = conn.execute(
            "SELECT count(*) FROM appointments_appointment WHERE practice_id = %s",
            (uuid.UUID(practice.id),),
        ).fetchone()
        (audited,) = conn.execute(
            "SELECT count(DISTINCT detail) FROM audit_auditevent"
            " WHERE action = 'appointment_booked' AND practice_id = %s",
            (uuid.UUID(practice.id),),
        ).fetchone()
        (double,) = conn.execute(
            "SELECT count(*) FROM (SELECT slot_id FROM appointments_appointment"
            " WHERE status <> 'cancelled' AND practice_id = %s GROUP BY slot_id"
            " HAVING count(*) > 1) d",
            (uuid.UUID(practice.id),),
        ).fetchone()
    return booked, audited, double


def main() -> None:
    parser = argparse.ArgumentParser(description="Booking throughput, FHIR and page paths.")
    parser.add_argument("--workers", type=int, default=4, help="server workers (default 4)")
    parser.add_argument("--threads", type=int, default=2, help="threads a worker (default 2)")
    parser.add_argument("--skip-http", action="store_true", help="only the in-process probe")
    parser.add_argument(
        "--profile", action="store_true", help="print the probe's SQL and a cProfile summary"
    )
    args = parser.parse_args()

    rush.SQL_SLOTS = 2 * SLOTS_PER_PATH + 2 * (PROBE_BOOKINGS + PROBE_WARMUP)
    with ExitStack() as stack:
        env = benchmark_env(stack)
        os.environ.update(env)
        print("book: preparing a practice on PostgreSQL", flush=True)
        steadfast(env, "migrate", "-v0")
        import django

        django.setup()
        practice = rush.build_practice()
        rush.ensure_chain_head(practice.id)
        from harness import settle

        settle(env)
        slots = practice.sql_slot_ids
        fhir_slots, page_slots = slots[:SLOTS_PER_PATH], slots[SLOTS_PER_PATH : 2 * SLOTS_PER_PATH]
        probe_slots = slots[2 * SLOTS_PER_PATH :]
        # The page clients open the day of their first slot; every slot is released already.
        from django.utils import timezone
        from django_scopes import scopes_disabled

        from steadfast.appointments.models import Slot

        with scopes_disabled():
            first = Slot.objects.get(pk=page_slots[0])
        day = timezone.localtime(first.start).date().isoformat()
        practice.day = day
        from steadfast.accounts.models import User
        from steadfast.fhir.auth import make_token

        with scopes_disabled():
            users = list(User.objects.filter(pk__in=practice.receptionist_ids))
        tokens = [make_token(users[k % len(users)]) for k in range(CLIENTS)]
        keys = rush.sign_in(practice, CLIENTS)
        patients, names = practice.patient_ids[:CLIENTS], practice.patient_names[:CLIENTS]

        fhir_tally = page_tally = Tally()
        fhir_rate = page_rate = 0.0
        if not args.skip_http:
            log = Path(env["STEADFAST_VAR_DIR"]) / "serve.log"
            proc, base = rush.start_server(args.workers, args.threads, log)
            try:
                asyncio.run(rush.wait_until_answering(base, proc))
                load = os.getloadavg()[0]
                print(
                    f"book: {CLIENTS} clients x {SECONDS} s, steadfast serve {args.workers}"
                    f" workers x {args.threads} threads; load {load:.1f}",
                    flush=True,
                )
                fhir_tally, fhir_s = asyncio.run(fhir_run(base, tokens, patients, fhir_slots))
                fhir_rate = fhir_tally.won / fhir_s
                print(
                    f"  FHIR: {fhir_tally.won} booked in {fhir_s:.1f} s, p50"
                    f" {percentile(fhir_tally.latencies_ms, 50):.0f} ms, p99"
                    f" {percentile(fhir_tally.latencies_ms, 99):.0f} ms, errors"
                    f" {len(fhir_tally.errors)} {fhir_tally.errors[:2]}",
                    flush=True,
                )
                page_tally, page_s = asyncio.run(
                    page_run(base, keys, patients, names, day, page_slots)
                )
                page_rate = page_tally.won / page_s
                print(
                    f"  page: {page_tally.won} booked in {page_s:.1f} s, p50"
                    f" {percentile(page_tally.latencies_ms, 50):.0f} ms, p99"
                    f" {percentile(page_tally.latencies_ms, 99):.0f} ms, errors"
                    f" {len(page_tally.errors)} {page_tally.errors[:2]}; load"
                    f" {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
            finally:
                stop_server(proc)
                if os.environ.get("BENCHMARK_SERVER_LOG"):
                    print(log.read_text()[-3000:])

        half = len(probe_slots) // 2
        costs = probe(
            practice, {"page": probe_slots[:half], "fhir": probe_slots[half:]}, args.profile
        )
        for path, (cpu, queries, server_cpu) in costs.items():
            print(
                f"  in-process {path}: cpu {cpu:.1f} ms, {queries} queries,"
                f" PostgreSQL cpu {server_cpu:.1f} ms",
                flush=True,
            )
        booked, audited, double = audit_gaps(practice)
        print(f"  {booked} appointments, {audited} with their audit entry", flush=True)
        if audited != booked:
            raise SystemExit(f"{booked - audited} bookings have no audit entry")
        if fhir_tally.errors or page_tally.errors:
            raise SystemExit("errors during the run")

    p99 = max(percentile(fhir_tally.latencies_ms, 99), percentile(page_tally.latencies_ms, 99))
    won = [cost for path, cost in costs.items() if path != LOST]
    cpu_ms = max(c for c, _, _ in won)
    queries = max(q for _, q, _ in won)
    print(
        f"book: fhir_rate={fhir_rate:.0f}/s page_rate={page_rate:.0f}/s p99_ms={p99:.0f}"
        f" double={double} cpu_ms={cpu_ms:.1f} queries={queries}"
    )


if __name__ == "__main__":
    main()
