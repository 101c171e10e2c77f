"""How fast a clinician sees a long record: the patient summary and the journal of the patients
with the longest histories, over HTTP, in a practice of 100,000 demo patients on PostgreSQL.

Runs on DATABASE_URL when set (give it a scratch database), otherwise a throwaway server. It
loads the demo practice (RECORD_PATIENTS patients, default 100,000; the load is timed), picks the
PATIENTS_MEASURED non-sensitive patients with the most entries, signs a GP in through the login
and second-factor pages, and requests each patient's summary and journal ROUNDS times, from
RECORD_CLIENTS concurrent clients (default 1: the latency one clinician sees; 2 for two clicking
at once on this 2-core machine), in random order. Every response must be a 200 showing the
patient's record. Last line:
`record: patients=N entries_max=N summary_p95_ms=N journal_p95_ms=N`.
"""

import asyncio
import os
import random
import re
import time
from contextlib import ExitStack

import aiohttp
from harness import (
    benchmark_env,
    demo_totp_secrets,
    percentile,
    settle,
    sign_in,
    start_server,
    steadfast,
    stop_server,
)

PATIENTS = int(os.environ.get("RECORD_PATIENTS", 100_000))
PATIENTS_MEASURED = 30
ROUNDS = 6
CLIENTS = int(os.environ.get("RECORD_CLIENTS", 1))

LONGEST_RECORDS = """
from django.apps import apps
from django.db import connection
from steadfast.records.models import Entry
tables = [m._meta.db_table for m in apps.get_models() if issubclass(m, Entry)]
union = " UNION ALL ".join(f"SELECT patient_id FROM {t}" for t in tables)
with connection.cursor() as c:
    c.execute(
        f"SELECT e.patient_id, count(*) FROM ({union}) e"
        " JOIN patients_patient p ON p.id = e.patient_id WHERE NOT p.is_sensitive"
        f" GROUP BY e.patient_id ORDER BY count(*) DESC LIMIT {PATIENTS_MEASURED}"
    )
    for patient_id, entries in c.fetchall():
        print(patient_id, entries)
"""


async def measure(base: str, totp_secret: str, patients: list[str]) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"summary": [], "journal": []}
    requests = [
        (page, patient_id)
        for patient_id in patients
        for page in ("summary", "journal")
        for _ in range(ROUNDS)
    ]
    random.Random(1).shuffle(requests)
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        await sign_in(session, base, "demo-gp", totp_secret)
        for patient_id in patients[:5]:  # warm up each worker's caches and connections
            async with session.get(f"{base}/record/patients/{patient_id}/") as r:
                await r.read()

        async def client(share: list) -> None:
            for page, patient_id in share:
                path = f"/record/patients/{patient_id}/" + ("journal/" if page == "journal" else "")
                started = time.perf_counter()
                async with session.get(base + path, allow_redirects=False) as r:
                    body = await r.text()
                elapsed = (time.perf_counter() - started) * 1000
                if r.status != 200 or "NHS number" not in body:
                    raise RuntimeError(f"{page} of a patient answered {r.status}")
                timings[page].append(elapsed)

        await asyncio.gather(*(client(requests[i::CLIENTS]) for i in range(CLIENTS)))
    return timings


def main() -> None:
    with ExitStack() as stack:
        env = benchmark_env(stack)
        print(f"record: loading {PATIENTS:,} demo patients on PostgreSQL", flush=True)
        steadfast(env, "migrate", "-v0")
        started = time.monotonic()
        demo = steadfast(env, "demo", "--patients", str(PATIENTS), "--weeks", "1")
        print(f"  {demo.splitlines()[0]} ({time.monotonic() - started:.0f} s)", flush=True)
        settle(env)
        script = LONGEST_RECORDS.replace("{PATIENTS_MEASURED}", str(PATIENTS_MEASURED))
        answer = steadfast(env, "shell", "-c", script)
        longest = re.findall(r"^([0-9a-f-]{36}) (\d+)$", answer, re.M)
        patients = [patient_id for patient_id, _ in longest]
        entries = [int(n) for _, n in longest]
        print(
            f"  measuring the {len(patients)} longest records: "
            f"{min(entries):,} to {max(entries):,} entries",
            flush=True,
        )
        proc, base = start_server(env)
        try:
            secret = demo_totp_secrets(demo)["demo-gp"]
            timings = asyncio.run(measure(base, secret, patients))
        finally:
            stop_server(proc)
        for page, values in timings.items():
            print(
                f"  {page}: {len(values)} requests, p50 {percentile(values, 50):.0f} ms, "
                f"p95 {percentile(values, 95):.0f} ms, max {max(values):.0f} ms",
                flush=True,
            )
        print(
            f"record: patients={PATIENTS} entries_max={max(entries)}"
            f" summary_p95_ms={percentile(timings['summary'], 95):.0f}"
            f" journal_p95_ms={percentile(timings['journal'], 95):.0f}"
        )


if __name__ == "__main__":
    main()
