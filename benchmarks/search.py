"""How fast reception finds a patient among 100,000: the search box over HTTP, on PostgreSQL.

Runs on DATABASE_URL when set (give it a scratch database), otherwise a throwaway server. It
loads a demo register of SEARCH_PATIENTS patients (default 100,000; clinical histories left out,
as search does not read them), signs a receptionist in, and sends QUERIES searches one after
another, as the as-you-type box does (the htmx partial): an equal mix of NHS numbers (spaced as
printed), the start of a family name (3 letters), a given-name start with a family-name start,
dates of birth, full postcodes and outward codes, each taken from a random registered patient.
Every NHS-number search must find its patient. Last line:
`search: patients=100000 queries=N p50_ms=N p95_ms=N max_ms=N`.
"""

import asyncio
import json
import os
import random
import time
from contextlib import ExitStack

import aiohttp
from harness import benchmark_env, percentile, sign_in, start_server, steadfast, stop_server

PATIENTS = int(os.environ.get("SEARCH_PATIENTS", 100_000))
QUERIES = 600
SAMPLE = """
import json, random
from django_scopes import scopes_disabled
from steadfast.patients.models import Patient
with scopes_disabled():
    rows = list(Patient.objects.values_list(
        "nhs_number", "given_name", "family_name", "date_of_birth", "postcode"))
print(json.dumps([[str(v) for v in r] for r in random.Random(1).sample(rows, 600)]))
"""


def queries_from(sample: list[list[str]]) -> list[tuple[str, str]]:
    """(kind, text) for each sampled patient, the kinds in turn."""
    out = []
    for i, (nhs, given, family, born, postcode) in enumerate(sample):
        year, month, day = born.split("-")
        kind = ("nhs", "family", "given family", "born", "postcode", "outward")[i % 6]
        text = {
            "nhs": f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}",
            "family": family[:3],
            "given family": f"{given[:2]} {family[:3]}",
            "born": f"{day}/{month}/{year}",
            "postcode": postcode,
            "outward": postcode.split()[0],
        }[kind]
        out.append((kind, text))
    return out


async def run(base: str, searches: list[tuple[str, str]]) -> list[float]:
    timings = []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        await sign_in(session, base, "demo-reception")
        for _, text in searches[:30]:  # warm up
            async with session.get(f"{base}/patients/", params={"q": text}) as r:
                await r.read()
        for kind, text in searches:
            started = time.perf_counter()
            async with session.get(
                f"{base}/patients/", params={"q": text}, headers={"HX-Request": "true"}
            ) as r:
                page = await r.text()
            timings.append((time.perf_counter() - started) * 1000)
            if r.status != 200 or (kind == "nhs" and text not in page):
                raise RuntimeError(f"a {kind} search answered {r.status} without its patient")
    return timings


def main() -> None:
    with ExitStack() as stack:
        env = benchmark_env(stack)
        print(f"search: loading a register of {PATIENTS:,} demo patients", flush=True)
        steadfast(env, "migrate", "-v0")
        args = ("--patients", str(PATIENTS), "--weeks", "1", "--no-histories")
        print("  " + steadfast(env, "demo", *args).splitlines()[0], flush=True)
        sample = json.loads(steadfast(env, "shell", "-c", SAMPLE).strip().splitlines()[-1])
        searches = queries_from(sample)[:QUERIES]
        random.Random(2).shuffle(searches)
        proc, base = start_server(env)
        try:
            timings = asyncio.run(run(base, searches))
        finally:
            stop_server(proc)
        by_kind: dict[str, list[float]] = {}
        for (kind, _), ms in zip(searches, timings, strict=True):
            by_kind.setdefault(kind, []).append(ms)
        for kind, values in by_kind.items():
            print(f"  {kind:>12}: p50 {percentile(values, 50):.0f} ms, max {max(values):.0f} ms")
        print(
            f"search: patients={PATIENTS} queries={len(timings)}"
            f" p50_ms={percentile(timings, 50):.0f} p95_ms={percentile(timings, 95):.0f}"
            f" max_ms={max(timings):.0f}"
        )


if __name__ == "__main__":
    main()
