"""The 8 a.m. rush through the FHIR API, and how fast `$everything` returns a whole record.

Runs on PostgreSQL: DATABASE_URL when set (it must be empty or hold only the demo, as `steadfast
demo` requires; give it a scratch database), otherwise a throwaway server. It migrates, loads a
demo practice of EVERYTHING_PATIENTS patients with histories, adds the rush practice of
benchmarks/rush.py (200 slots released at once), starts `steadfast serve` on 127.0.0.1 and stops
it at the end. Last line:
`fhir: book_rate=N/s double=N p99_ms=N everything_p95_ms=N`.

The rush: 300 clients, each an integrating system acting for one of the practice's receptionists
with that receptionist's bearer token. Before the start (not timed) each has fetched the free
slots (`GET /fhir/Slot?status=free&start=ge<day>&start=le<day>`). Then each books its own patient
into one of them at random with `POST /fhir/Appointment`; on a 409 it fetches the free slots
afresh and tries another of them, until it has booked or none is left. book_rate is bookings
per second from the first POST to the last successful one; p99_ms the latency of the booking
POSTs; double the slots holding more than one live appointment afterwards (counted in the
database). Any 5xx or unexpected answer is an error.

$everything: a GP's token asks for each of the demo practice's non-sensitive patients' whole
record ROUNDS times, two clients at once; everything_p95_ms is the 95th percentile latency.
"""

import argparse
import asyncio
import json
import os
import random
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from harness import benchmark_env, percentile, steadfast, stop_server
from rush import (
    CLIENTS,
    SLOTS,
    build_practice,
    count_bookings,
    ensure_chain_head,
    start_server,
    wait_until_answering,
)

# This file's name would hide the `fhir` package (fhir.resources) from this process.
sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]

EVERYTHING_PATIENTS = 50
ROUNDS = 4
EVERYTHING_CLIENTS = 2
RUSH_TIMEOUT = 120
ATTEMPTS_PER_CLIENT = 50
FHIR_JSON = "application/fhir+json"


@dataclass
class Tally:
    posts: list[tuple[float, float, bool]] = field(default_factory=list)  # sent, answered, won
    errors: int = 0

    def error(self, n: int, what: str) -> None:
        self.errors += 1
        if self.errors <= 5:
            print(f"  client {n}: {what}", flush=True)


async def free_slots(http: aiohttp.ClientSession, day: str) -> list[str]:
    query = f"/fhir/Slot?status=free&start=ge{day}&start=le{day}&_count=200"
    async with http.get(query) as r:
        if r.status != 200:
            raise RuntimeError(f"slot search answered {r.status}")
        bundle = json.loads(await r.read())
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


async def booking_client(
    base: str,
    token: str,
    patient_id: str,
    day: str,
    n: int,
    ready: asyncio.Semaphore,
    start: asyncio.Event,
    tally: Tally,
    deadline: float,
) -> None:
    rng = random.Random(n)
    headers = {"Authorization": f"Bearer {token}", "Accept": FHIR_JSON}
    timeout = aiohttp.ClientTimeout(total=60)
    # A connection per request: the server closes idle kept-alive ones while clients wait.
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(
        base, headers=headers, timeout=timeout, connector=connector
    ) as http:
        try:
            believed_free = await free_slots(http, day)
        except (aiohttp.ClientError, TimeoutError, RuntimeError) as exc:
            tally.error(n, f"{type(exc).__name__}: {exc}")
            return
        finally:
            ready.release()
        await start.wait()
        try:
            for _ in range(ATTEMPTS_PER_CLIENT):
                if not believed_free or time.monotonic() > deadline:
                    return
                slot_id = rng.choice(believed_free)
                body = {
                    "resourceType": "Appointment",
                    "status": "booked",
                    "description": "Cough",
                    "slot": [{"reference": f"Slot/{slot_id}"}],
                    "participant": [
                        {"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"}
                    ],
                }
                sent = time.monotonic()
                async with http.post(
                    "/fhir/Appointment",
                    data=json.dumps(body),
                    headers={"Content-Type": FHIR_JSON},
                ) as r:
                    await r.read()
                    answered = time.monotonic()
                    status = r.status
                if status == 201:
                    tally.posts.append((sent, answered, True))
                    return
                if status != 409:
                    tally.error(n, f"POST Appointment answered {status}")
                    return
                tally.posts.append((sent, answered, False))
                believed_free = await free_slots(http, day)  # what is still free, then again
        except (aiohttp.ClientError, TimeoutError, RuntimeError) as exc:
            tally.error(n, f"{type(exc).__name__}: {exc}")


async def rush(base: str, tokens: list[str], patient_ids: list[str], day: str) -> Tally:
    tally = Tally()
    ready, start = asyncio.Semaphore(0), asyncio.Event()
    deadline = time.monotonic() + RUSH_TIMEOUT
    clients = [
        asyncio.create_task(
            booking_client(base, token, patient_ids[n], day, n, ready, start, tally, deadline)
        )
        for n, token in enumerate(tokens)
    ]
    for _ in clients:
        await asyncio.wait_for(ready.acquire(), timeout=RUSH_TIMEOUT)
    print(f"  {len(clients)} clients hold the free slots; go", flush=True)
    started = time.monotonic()
    start.set()
    await asyncio.wait_for(asyncio.gather(*clients), timeout=RUSH_TIMEOUT + 60)
    lost = sum(1 for *_, won in tally.posts if not won)
    print(f"  over in {time.monotonic() - started:.1f} s; {lost} races lost (409)", flush=True)
    return tally


async def everything(base: str, token: str, patient_ids: list[str]) -> list[float]:
    headers = {"Authorization": f"Bearer {token}", "Accept": FHIR_JSON}
    requests = [p for p in patient_ids for _ in range(ROUNDS)]
    random.Random(1).shuffle(requests)
    timings: list[float] = []
    async with aiohttp.ClientSession(base, headers=headers) as http:
        for patient_id in patient_ids[:5]:  # warm each worker's connections
            async with http.get(f"/fhir/Patient/{patient_id}/$everything") as r:
                await r.read()

        async def client(share: list[str]) -> None:
            for patient_id in share:
                started = time.perf_counter()
                async with http.get(f"/fhir/Patient/{patient_id}/$everything") as r:
                    body = await r.read()
                timings.append((time.perf_counter() - started) * 1000)
                if r.status != 200 or json.loads(body)["resourceType"] != "Bundle":
                    raise RuntimeError(f"$everything answered {r.status}")

        await asyncio.gather(
            *(client(requests[i::EVERYTHING_CLIENTS]) for i in range(EVERYTHING_CLIENTS))
        )
    return timings


def tokens_and_patients(practice) -> tuple[list[str], str, list[str]]:
    """Bearer tokens for the rush clients (spread over the receptionists), the demo GP's token,
    and the demo practice's non-sensitive patients."""
    from django_scopes import scopes_disabled

    from steadfast.accounts.models import User
    from steadfast.fhir.auth import make_token
    from steadfast.patients.models import Patient

    with scopes_disabled():
        receptionists = list(User.objects.filter(pk__in=practice.receptionist_ids))
        tokens = [make_token(receptionists[n % len(receptionists)]) for n in range(CLIENTS)]
        gp = User.objects.get(username="demo-gp")
        demo_patients = Patient.objects.filter(practice_id=gp.practice_id, is_sensitive=False)
        patient_ids = [str(pk) for pk in demo_patients.values_list("pk", flat=True)]
    return tokens, make_token(gp), patient_ids


def main() -> None:
    parser = argparse.ArgumentParser(description="Booking and $everything through the FHIR API.")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--threads", type=int, default=2, help="threads a worker (default 2)")
    args = parser.parse_args()

    with ExitStack() as stack:
        env = benchmark_env(stack)
        os.environ.update(env)  # the practice and tokens are made in this process
        print("fhir: preparing the demo and a rush practice on PostgreSQL", flush=True)
        steadfast(env, "migrate", "-v0")
        steadfast(env, "demo", "--patients", str(EVERYTHING_PATIENTS), "--weeks", "1")
        import django

        django.setup()
        practice = build_practice()
        ensure_chain_head(practice.id)  # the first entries, made by racing workers, would clash
        tokens, gp_token, demo_patients = tokens_and_patients(practice)
        print(
            f"  {SLOTS} slots released on {practice.day}; {CLIENTS} clients with tokens;"
            f" {len(demo_patients)} demo records",
            flush=True,
        )
        log = Path(env["STEADFAST_VAR_DIR"]) / "serve.log"
        proc, base = start_server(args.workers, args.threads, log)
        try:
            asyncio.run(wait_until_answering(base, proc))
            print(
                f"fhir: booking rush, {args.workers} workers x {args.threads} threads", flush=True
            )
            tally = asyncio.run(rush(base, tokens, practice.patient_ids, practice.day))
            print("fhir: $everything", flush=True)
            timings = asyncio.run(everything(base, gp_token, demo_patients))
        finally:
            stop_server(proc)
        if tally.errors:
            print("  the server's last words:", *log.read_text().splitlines()[-30:], sep="\n    ")
        booked, double = count_bookings(practice)

    wins = sorted(answered for _, answered, won in tally.posts if won)
    first_post = min((sent for sent, _, _ in tally.posts), default=0.0)
    rate = len(wins) / (wins[-1] - first_post) if wins else 0.0
    latencies = [(answered - sent) * 1000 for sent, answered, _ in tally.posts]
    if booked != len(wins) or tally.errors:
        print(f"  told of {len(wins)} bookings, database holds {booked}; errors {tally.errors}")
    print(
        f"  booked {booked} of {SLOTS}; POST p50 {percentile(latencies, 50):.0f} ms;"
        f" $everything {len(timings)} requests, p50 {percentile(timings, 50):.0f} ms,"
        f" max {max(timings):.0f} ms",
        flush=True,
    )
    print(
        f"fhir: book_rate={rate:.0f}/s double={double} p99_ms={percentile(latencies, 99):.0f}"
        f" everything_p95_ms={percentile(timings, 95):.0f}"
    )


if __name__ == "__main__":
    main()
