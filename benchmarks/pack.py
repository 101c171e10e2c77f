"""How big and how fast the downtime pack is for a large practice: build it, then open it.

Runs on DATABASE_URL when set (give it a scratch database), otherwise a throwaway PostgreSQL. It
loads the demo practice with PACK_PATIENTS patients (default 30,000, with clinical histories),
then times `steadfast continuity pack --days 2` end to end (the whole command: start-up, reads,
encryption, writing the file). It opens the file in chromium from disk with the network off,
OPENS times: open_s is the median time from pressing Open with the passphrase to the first day
list on screen (key derivation, decryption, decompression and drawing). It then checks the
search finds a booked patient. Targets: build under 60 s, under 40 MB, open under 5 s.
Last line: `pack: patients=N booked=N build_s=N mb=N open_s=N`.
"""

import os
import re
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from harness import benchmark_env, settle, steadfast

PATIENTS = int(os.environ.get("PACK_PATIENTS", 30_000))
OPENS = 3
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
WROTE = re.compile(r"(\d+) patients, (\d+) booked")
PASSPHRASE = re.compile(r"^Downtime pack passphrase: (.+) \(the worker", re.M)


def open_in_chromium(path: Path, passphrase: str) -> tuple[list[float], str]:
    """Seconds from Open to the first list, each time in a fresh offline browser context; and
    what a search for the first booked patient's name shows."""
    from playwright.sync_api import sync_playwright

    timings, found = [], ""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        for _ in range(OPENS):
            context = browser.new_context(offline=True)
            page = context.new_page()
            page.goto(path.as_uri())
            page.get_by_label("Passphrase").fill(passphrase)
            started = time.perf_counter()
            page.get_by_role("button", name="Open").click()
            page.locator("table.day-list").first.wait_for(state="visible", timeout=60_000)
            timings.append(time.perf_counter() - started)
            name = page.locator("table.day-list tbody td a").first.inner_text()
            family = name.split(",")[0]
            page.get_by_label("Name, NHS number or date of birth").fill(family)
            found = page.locator("#find-results").inner_text(timeout=10_000)
            context.close()
        browser.close()
    return timings, f"{family}: {'found' if family in found else 'NOT FOUND'}"


def main() -> None:
    with ExitStack() as stack:
        env = benchmark_env(stack)
        steadfast(env, "migrate", "--no-input", "-v", "0")
        started = time.monotonic()
        demo = steadfast(env, "demo", "--patients", str(PATIENTS))
        print(f"demo load: {time.monotonic() - started:.0f} s", file=sys.stderr)
        passphrase = PASSPHRASE.search(demo)[1]
        settle(env)
        out = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "pack.html"
        started = time.monotonic()
        wrote = steadfast(
            {**env, "STEADFAST_PACK_PASSPHRASE": passphrase},
            "continuity", "pack", "--out", str(out), "--days", "2",
        )  # fmt: skip
        build_s = time.monotonic() - started
        patients, booked = map(int, WROTE.search(wrote).groups())
        mb = out.stat().st_size / 1e6
        timings, search = open_in_chromium(out, passphrase)
        print(f"opens: {', '.join(f'{t:.2f}' for t in timings)} s; search {search}")
        print(
            f"pack: patients={patients} booked={booked} build_s={build_s:.1f} mb={mb:.1f} "
            f"open_s={statistics.median(timings):.2f}"
        )


if __name__ == "__main__":
    main()
