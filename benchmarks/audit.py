"""What auditing costs: record-summary requests per second with audit on and off, audit entries
appended per second straight through `audit.services.record` by many threads into one practice
and into four, and the speed of `steadfast audit-verify` over 1,000,000 entries
(AUDIT_VERIFY_ENTRIES to change).

Runs on PostgreSQL: DATABASE_URL when set, otherwise a throwaway server. A GP signed in through
the login and second-factor pages opens the record summaries of 2,000 demo patients at random.
Last line: `audit: overhead_pct=N appends_1=N/s appends_4=N/s verify_rate=N/s`.
"""

import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack

import aiohttp
from harness import (
    ROOT,
    benchmark_env,
    demo_totp_secrets,
    settle,
    sign_in,
    start_server,
    steadfast,
    stop_server,
)

CLIENTS = 16
ROUND_SECONDS = 8
VERIFY_ENTRIES = int(os.environ.get("AUDIT_VERIFY_ENTRIES", 1_000_000))
APPEND_THREADS = 8
FILL_PRACTICES = 10  # the verified trail interleaves this many practices' chains
APPEND_SECONDS = 5


async def gp_session_cookies(base: str, totp_secret: str) -> dict:
    """Sign the GP in once (a code from the authenticator is accepted only once)."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        await sign_in(session, base, "demo-gp", totp_secret)
    return {c.key: c.value for c in jar}


async def hammer(base: str, cookies: dict, patient_ids: list[str], seconds: float) -> float:
    """Record summaries per second over `seconds`, from CLIENTS concurrent clients of one GP."""
    done = errors = 0

    async def client(rng: random.Random) -> None:
        nonlocal done, errors
        async with aiohttp.ClientSession(cookies=cookies) as session:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                patient_id = rng.choice(patient_ids)
                async with session.get(f"{base}/record/patients/{patient_id}/") as r:
                    await r.read()
                    if r.status == 200:
                        done += 1
                    else:
                        errors += 1
                        print("  unexpected status", r.status, flush=True)

    started = time.monotonic()
    await asyncio.gather(*(client(random.Random(i)) for i in range(CLIENTS)))
    if errors:
        raise RuntimeError(f"{errors} failed requests")
    return done / (time.monotonic() - started)


def measure_overhead(env: dict, totp_secret: str, patient_ids: list[str]) -> float:
    rates = {True: [], False: []}
    cookies = None
    # Interleaved (off on on off ...), so drift in the machine's speed hits both alike.
    for audit_on in (False, True, True, False, False, True, True, False):
        off = {} if audit_on else {"STEADFAST_BENCHMARK_AUDIT_OFF": "1"}
        proc, base = start_server(env, workers=3, threads=4, extra_env=off)
        try:
            cookies = cookies or asyncio.run(gp_session_cookies(base, totp_secret))
            asyncio.run(hammer(base, cookies, patient_ids, 2))  # warm up
            rate = asyncio.run(hammer(base, cookies, patient_ids, ROUND_SECONDS))
        finally:
            stop_server(proc)
        rates[audit_on].append(rate)
        print(f"  audit {'on ' if audit_on else 'off'}: {rate:,.0f} requests/s", flush=True)
    on, off = statistics.median(rates[True]), statistics.median(rates[False])
    return (off - on) / off * 100


def append_rate(practices: int) -> None:
    """Durable audit entries per second from APPEND_THREADS threads, spread over `practices`.

    Runs in a child process (`audit.py --appends N`) with Django set up on DATABASE_URL; prints
    the rate.
    """
    import threading
    import uuid

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "steadfast.settings")
    django.setup()
    from django.db import connection

    from steadfast.audit.services import record

    practice_ids = [uuid.uuid4() for _ in range(practices)]
    counts = [0] * APPEND_THREADS
    start_line = threading.Barrier(APPEND_THREADS)

    def append(k: int) -> None:
        practice_id = practice_ids[k % practices]
        record("benchmark_append", practice_id=practice_id)  # connect, start the chain
        start_line.wait(timeout=60)
        end = time.monotonic() + APPEND_SECONDS
        while time.monotonic() < end:
            record("benchmark_append", practice_id=practice_id, detail=f"entry {counts[k]}")
            counts[k] += 1
        connection.close()

    threads = [threading.Thread(target=append, args=(k,)) for k in range(APPEND_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"{sum(counts) / APPEND_SECONDS:.0f}")


def measure_append_rates(env: dict) -> dict[int, float]:
    """Median appends per second into one practice and into four, in interleaved rounds."""
    rates = {1: [], 4: []}
    for practices in (1, 4, 4, 1, 1, 4):
        out = subprocess.run(
            [sys.executable, __file__, "--appends", str(practices)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rates[practices].append(float(out.split()[-1]))
        print(f"  {practices} practice(s): {rates[practices][-1]:,.0f} entries/s", flush=True)
    return {n: statistics.median(r) for n, r in rates.items()}


def fill_trail(entries: int) -> None:
    """Append `entries` genuine chained entries of FILL_PRACTICES practices quickly (COPY), as
    years of use of a shared server would leave.

    Runs in a child process (`audit.py --fill N`) with Django set up on DATABASE_URL.
    """
    import uuid
    from datetime import UTC, datetime, timedelta

    import django
    import psycopg

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "steadfast.settings")
    django.setup()
    from steadfast.audit.chain import GENESIS, entry_hash, head_signature

    at = datetime(2020, 1, 1, tzinfo=UTC)
    practices, user = [str(uuid.uuid4()) for _ in range(FILL_PRACTICES)], 7
    columns = (
        "id, chain, seq, at, user_id, username, role, practice_id, patient_id, action, detail,"
        " source, outcome, prev_hash, hash"
    )
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        start = conn.execute("SELECT coalesce(max(id), 0) FROM audit_auditevent").fetchone()[0]
        heads = {p: (0, 0, GENESIS) for p in practices}  # practice: (seq, id, hash)
        with conn.cursor().copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
            for i in range(1, entries + 1):
                at += timedelta(seconds=3)
                practice = practices[i % FILL_PRACTICES]
                seq, _, prev = heads[practice]
                patient = str(uuid.UUID(int=i))
                fields = ("demo-gp", "gp", practice, patient, "view_patient", "", "127.0.0.1")
                h = entry_hash(practice, seq + 1, at, user, *fields, "allowed", prev)
                copy.write_row(
                    (start + i, practice, seq + 1, at, user, *fields, "allowed", prev, h)
                )
                heads[practice] = (seq + 1, start + i, h)
        for practice, (seq, id_, h) in heads.items():
            conn.execute(
                "INSERT INTO audit_chainhead (chain, last_seq, last_event_id, last_hash,"
                " signature, checkpoint_seq, checkpoint_at) VALUES (%s, %s, %s, %s, %s, 0, now())",
                (practice, seq, id_, h, head_signature(practice, seq, id_, h)),
            )
        last = start + entries
        conn.execute("SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), %s)", (last,))


def main() -> None:
    with ExitStack() as stack:
        env = benchmark_env(stack)
        print("audit: preparing a demo practice on PostgreSQL", flush=True)
        steadfast(env, "migrate", "-v0")
        demo = steadfast(env, "demo", "--patients", "5000", "--weeks", "1")
        settle(env)
        ids = steadfast(
            env,
            "shell",
            "-c",
            (
                "from django_scopes import scopes_disabled\n"
                "from steadfast.patients.models import Patient\n"
                "with scopes_disabled():\n"
                "    open_records = Patient.objects.filter(is_sensitive=False)\n"
                "    print(*open_records.values_list('id', flat=True)[:2000])"
            ),
        )
        ids = re.findall(r"\b[0-9a-f]{8}-[0-9a-f-]{27}\b", ids)
        overhead = measure_overhead(env, demo_totp_secrets(demo)["demo-gp"], ids)
        print(f"  overhead of auditing each record view: {overhead:.1f}%", flush=True)

        print(f"audit: appending from {APPEND_THREADS} threads for {APPEND_SECONDS} s", flush=True)
        appends = measure_append_rates(env)

        print(f"audit: writing {VERIFY_ENTRIES:,} chained entries", flush=True)
        subprocess.run(
            [sys.executable, __file__, "--fill", str(VERIFY_ENTRIES)], env=env, check=True
        )
        started = time.monotonic()
        out = steadfast(env, "audit-verify")
        elapsed = time.monotonic() - started
        count = int(re.search(r"([\d,]+) entries verified", out)[1].replace(",", ""))
        print(f"  {out.strip()}; {elapsed:.1f} s including start-up", flush=True)
        print(
            f"audit: overhead_pct={overhead:.1f} appends_1={appends[1]:.0f}/s"
            f" appends_4={appends[4]:.0f}/s verify_rate={count / elapsed:.0f}/s"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--fill"]:
        sys.path.insert(0, str(ROOT))
        fill_trail(int(sys.argv[2]))
    elif sys.argv[1:2] == ["--appends"]:
        sys.path.insert(0, str(ROOT))
        append_rate(int(sys.argv[2]))
    else:
        main()
