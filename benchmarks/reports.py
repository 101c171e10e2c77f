"""How fast the Reports page answers for a year of a 30,000-patient practice, on PostgreSQL.

Runs on DATABASE_URL when set (give it a scratch database), otherwise a throwaway server. It
loads the demo practice (REPORT_PATIENTS patients, default 30,000, no clinical histories), then
a year of appointments in the past 52 weeks: each weekday, every demo clinician's sessions of
10-minute slots, nine in ten booked (REPORT_PER_PATIENT, default 5 appointments per patient per
year, sets how many clinician-days that takes), with a mix of modes, statuses and booking lead
times. A practice manager signs in through the pages and asks for the 52-week report ROUNDS
times. Every answer must be a 200 showing the year's total. Last line:
`reports: appointments=N page_p95_ms=N`.
"""

import asyncio
import os
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

PATIENTS = int(os.environ.get("REPORT_PATIENTS", 30_000))
PER_PATIENT = int(os.environ.get("REPORT_PER_PATIENT", 5))
ROUNDS = 20

# Run in `steadfast shell`: a year of slots and appointments, written in batches.
LOAD_A_YEAR = """
import random
from datetime import datetime, time, timedelta
from django.utils import timezone
from django_scopes import scopes_disabled
from steadfast.accounts.models import CLINICAL_ROLES, User
from steadfast.appointments.models import Appointment, Slot
from steadfast.patients.models import Patient
from steadfast.practices.models import Practice

TARGET = {TARGET}
rng = random.Random(17)
tz = timezone.get_current_timezone()
with scopes_disabled():
    practice = Practice.objects.get(is_demo=True)
    clinicians = list(User.objects.filter(practice=practice, role__in=CLINICAL_ROLES))
    reception = User.objects.filter(practice=practice, role="receptionist").first()
    patients = list(Patient.objects.filter(practice=practice).values_list("id", flat=True))
    today = timezone.localdate()
    day = today - timedelta(weeks=52)
    per_day = -(-TARGET // (5 * 52))  # appointments a working day
    made = 0
    while day < today:
        if day.weekday() < 5:
            slots, appointments = [], []
            for n in range(per_day):
                clinician = clinicians[n % len(clinicians)]
                minute = 8 * 60 + 10 * (n // len(clinicians))
                # Half a minute past: never the start of one of the demo's own slots.
                start = datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=minute)
                start += timedelta(seconds=30)
                mode = rng.choices(
                    ["face_to_face", "telephone", "video", "home_visit"], [64, 30, 3, 3]
                )[0]
                slot = Slot(
                    practice=practice, clinician=clinician, start=start,
                    end=start + timedelta(minutes=10), delivery_mode=mode, status="booked",
                )
                slots.append(slot)
                status = rng.choices(["finished", "did_not_attend", "cancelled"], [90, 4, 6])[0]
                lead = rng.choice([0, 0, 0, 1, 2, 3, 5, 7, 10, 14, 20, 27, 35])
                booked_at = start - timedelta(days=lead, minutes=rng.randrange(600))
                appointments.append(Appointment(
                    practice=practice, slot=slot, patient_id=rng.choice(patients),
                    status=status, booked_by=reception, booked_at=booked_at,
                    status_changed_at=start,
                    cancelled_by="patient" if status == "cancelled" else "",
                ))
            Slot.objects.bulk_create(slots, batch_size=2000)
            Appointment.objects.bulk_create(appointments, batch_size=2000)
            made += len(appointments)
        day += timedelta(days=1)
    print("made", made)
"""


async def measure(base: str, totp_secret: str) -> list[float]:
    timings = []
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        await sign_in(session, base, "demo-manager", totp_secret)
        async with session.get(f"{base}/reports/?weeks=52") as r:  # warm up
            await r.read()
        for _ in range(ROUNDS):
            started = time.perf_counter()
            async with session.get(f"{base}/reports/?weeks=52", allow_redirects=False) as r:
                body = await r.text()
            timings.append((time.perf_counter() - started) * 1000)
            if r.status != 200 or 'id="total"' not in body:
                raise RuntimeError(f"the reports page answered {r.status}")
        return timings


def main() -> None:
    with ExitStack() as stack:
        env = benchmark_env(stack)
        print(f"reports: loading {PATIENTS:,} demo patients on PostgreSQL", flush=True)
        steadfast(env, "migrate", "-v0")
        demo = steadfast(env, "demo", "--patients", str(PATIENTS), "--weeks", "1", "--no-histories")
        print(f"  {demo.splitlines()[0]}", flush=True)
        started = time.monotonic()
        script = LOAD_A_YEAR.replace("{TARGET}", str(PATIENTS * PER_PATIENT))
        made = int(re.search(r"made (\d+)", steadfast(env, "shell", "-c", script))[1])
        print(f"  a year of appointments: {made:,} ({time.monotonic() - started:.0f} s)")
        settle(env)
        count = steadfast(
            env,
            "shell",
            "-c",
            "from django_scopes import scopes_disabled\n"
            "from steadfast.appointments.models import Appointment\n"
            "with scopes_disabled(): print(Appointment.objects.count())",
        )
        appointments = int(count.strip().splitlines()[-1])
        proc, base = start_server(env)
        try:
            secret = demo_totp_secrets(demo)["demo-manager"]
            timings = asyncio.run(measure(base, secret))
        finally:
            stop_server(proc)
        print(
            f"  52-week report: {len(timings)} requests, p50 {percentile(timings, 50):.0f} ms, "
            f"p95 {percentile(timings, 95):.0f} ms, max {max(timings):.0f} ms",
            flush=True,
        )
        print(f"reports: appointments={appointments} page_p95_ms={percentile(timings, 95):.0f}")


if __name__ == "__main__":
    main()
