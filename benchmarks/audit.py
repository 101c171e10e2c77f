"""What auditing costs: patient-record requests per second with audit on and off, and the speed
of `steadfast audit-verify` over 1,000,000 entries.

Runs on PostgreSQL: DATABASE_URL when set, otherwise a throwaway server. The record view
measured is the patient page (the record summary of the clinical-record issue will replace it).
Last line: `audit: overhead_pct=N verify_rate=N/s`.
"""

import asyncio
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLIENTS = 16
ROUND_SECONDS = 8
VERIFY_ENTRIES = int(os.environ.get("AUDIT_VERIFY_ENTRIES", 1_000_000))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def steadfast(env: dict, *args: str) -> str:
    return subprocess.run(
        [str(BIN / "steadfast"), *args], env=env, check=True, capture_output=True, text=True
    ).stdout


def start_server(env: dict, audit_on: bool) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server_env = dict(env)
    if not audit_on:
        server_env["STEADFAST_BENCHMARK_AUDIT_OFF"] = "1"
    proc = subprocess.Popen(
        [
            str(BIN / "steadfast"),
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--quiet",
            "--workers",
            "3",
            "--threads",
            "4",
        ],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, base
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


async def login(session: aiohttp.ClientSession, base: str, password: str) -> None:
    async with session.get(f"{base}/accounts/login/") as r:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', await r.text())[1]
    data = {"csrfmiddlewaretoken": token, "username": "demo-reception", "password": password}
    async with session.post(
        f"{base}/accounts/login/",
        data=data,
        allow_redirects=False,
        headers={"Referer": f"{base}/accounts/login/"},
    ) as r:
        if r.status != 302:
            raise RuntimeError(f"login failed: {r.status}")


async def hammer(base: str, password: str, patient_ids: list[str], seconds: float) -> float:
    """Requests per second for patient pages over `seconds`, with CLIENTS concurrent clients."""
    done = errors = 0

    async def client(rng: random.Random) -> None:
        nonlocal done, errors
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            await login(session, base, password)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                async with session.get(f"{base}/patients/{rng.choice(patient_ids)}/") as r:
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


def measure_overhead(env: dict, password: str, patient_ids: list[str]) -> float:
    rates = {True: [], False: []}
    for audit_on in (False, True, False, True):  # interleaved, so drift hits both alike
        proc, base = start_server(env, audit_on)
        try:
            asyncio.run(hammer(base, password, patient_ids, 2))  # warm up
            rate = asyncio.run(hammer(base, password, patient_ids, ROUND_SECONDS))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        rates[audit_on].append(rate)
        print(f"  audit {'on ' if audit_on else 'off'}: {rate:,.0f} requests/s", flush=True)
    on, off = max(rates[True]), max(rates[False])
    return (off - on) / off * 100


def fill_trail(entries: int) -> None:
    """Append `entries` genuine chained entries quickly (COPY), as years of use would leave.

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
    practice, user = str(uuid.uuid4()), 7
    columns = (
        "id, at, user_id, username, role, practice_id, patient_id, action, detail, source,"
        " outcome, prev_hash, hash"
    )
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        start = conn.execute("SELECT coalesce(max(id), 0) FROM audit_auditevent").fetchone()[0]
        head = conn.execute("SELECT last_hash FROM audit_chainhead WHERE id = 1").fetchone()
        prev = head[0] if head else GENESIS
        with conn.cursor().copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
            for i in range(1, entries + 1):
                at += timedelta(seconds=3)
                patient = str(uuid.UUID(int=i))
                fields = ("demo-gp", "gp", practice, patient, "view_patient", "", "127.0.0.1")
                h = entry_hash(at, user, *fields, "allowed", prev)
                copy.write_row((start + i, at, user, *fields, "allowed", prev, h))
                prev = h
        last = start + entries
        conn.execute(
            "INSERT INTO audit_chainhead (id, last_event_id, last_hash, signature)"
            " VALUES (1, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET"
            " last_event_id = EXCLUDED.last_event_id, last_hash = EXCLUDED.last_hash,"
            " signature = EXCLUDED.signature",
            (last, prev, head_signature(last, prev)),
        )
        conn.execute("SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), %s)", (last,))


def main() -> None:
    with ExitStack() as stack:
        env = dict(os.environ)
        env.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 30)
        env["STEADFAST_VAR_DIR"] = stack.enter_context(tempfile.TemporaryDirectory())
        env["STEADFAST_DEMO_PASSWORD"] = "benchmark-password-1"
        env["DJANGO_SETTINGS_MODULE"] = "steadfast.settings"
        if "DATABASE_URL" not in env:
            sys.path.insert(0, str(ROOT))
            from steadfast.testing.postgres import ThrowawayPostgres

            env["DATABASE_URL"] = stack.enter_context(ThrowawayPostgres(durable=True)).url
        print("audit: preparing a demo practice on PostgreSQL", flush=True)
        steadfast(env, "migrate", "-v0")
        steadfast(env, "demo", "--patients", "5000", "--weeks", "1")
        ids = steadfast(
            env,
            "shell",
            "-c",
            (
                "from django_scopes import scopes_disabled\n"
                "from steadfast.patients.models import Patient\n"
                "with scopes_disabled():\n"
                "    print(*Patient.objects.values_list('id', flat=True)[:2000])"
            ),
        )
        ids = re.findall(r"\b[0-9a-f]{8}-[0-9a-f-]{27}\b", ids)
        overhead = measure_overhead(env, env["STEADFAST_DEMO_PASSWORD"], ids)
        print(f"  overhead of auditing each record view: {overhead:.1f}%", flush=True)

        print(f"audit: writing {VERIFY_ENTRIES:,} chained entries", flush=True)
        subprocess.run(
            [sys.executable, __file__, "--fill", str(VERIFY_ENTRIES)], env=env, check=True
        )
        started = time.monotonic()
        out = steadfast(env, "audit-verify")
        elapsed = time.monotonic() - started
        count = int(re.search(r"([\d,]+) entries verified", out)[1].replace(",", ""))
        print(f"  {out.strip()}; {elapsed:.1f} s including start-up", flush=True)
        print(f"audit: overhead_pct={overhead:.1f} verify_rate={count / elapsed:.0f}/s")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--fill"]:
        sys.path.insert(0, str(ROOT))
        fill_trail(int(sys.argv[2]))
    else:
        main()
