"""Take the README's picture of the appointment book: today's day view as demo-reception sees it.

Against a running server with the demo practice loaded (`steadfast demo` prints the password):

    .venv/bin/python docs/screenshot.py --url http://127.0.0.1:8000 --password "$DEMO_PASSWORD"

The password may come from STEADFAST_DEMO_PASSWORD instead; chromium from CHROMIUM_PATH.
"""

import argparse
import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

VIEWPORT = {"width": 1400, "height": 1000}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def take(url: str, username: str, password: str, output: Path, chromium: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(base_url=url, viewport=VIEWPORT, locale="en-GB")
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("button", name="Log out").wait_for()
        page.goto("/appointments/")
        page.get_by_role("table", name="Appointments on", exact=False).wait_for()
        page.evaluate("document.fonts.ready")
        page.screenshot(path=output)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("STEADFAST_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--password", default=os.environ.get("STEADFAST_DEMO_PASSWORD"))
    parser.add_argument("--username", default="demo-reception")
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).resolve().parent / "appointment-book.png"
    )
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    args = parser.parse_args()
    if not args.password:
        sys.exit("Give the demo password: --password or STEADFAST_DEMO_PASSWORD.")
    take(args.url, args.username, args.password, args.output, args.chromium)
    print(f"Saved {args.output} ({args.output.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
