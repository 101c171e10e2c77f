"""A practice node following a 10,000-patient practice: the first copy, then lag under load.

Runs the central server on PostgreSQL (DATABASE_URL when set, it must be a scratch database;
otherwise a throwaway durable server), loads the demo practice (PATIENTS patients with their
histories), starts `steadfast serve`, makes a node token, and then, as a practice would:

1. `steadfast node init` on a fresh node directory (SQLite): initial_s is its wall time.
2. `steadfast node follow` in the background (polling every STEADFAST_NODE_FOLLOW_SECONDS,
   3 s by default) while WRITERS receptionists book and cancel through the FHIR API at a steady
   RATE per second for DURATION seconds. Each booking's lag is from its 201 to the moment the
   appointment is in the node's database (read every 0.2 s); lag_p95_s is their 95th percentile.
   changes_per_s is the changes the node applied per second of the steady phase.

Last line: `follow: patients=N initial_s=N lag_p95_s=N changes_per_s=N`.
"""

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from harness import BIN, benchmark_env, percentile, settle, start_server, steadfast, stop_server

FHIR_JSON = "application/fhir+json"


def _call(base: str, token: str, method: str, path: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{base}/fhir/{path}",
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": FHIR_JSON},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def _ids(base: str, token: str, path: str) -> list[str]:
    status, bundle = _call(base, token, "GET", path)
    if status != 200:
        raise RuntimeError(f"GET {path}: {status}")
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


class Load:
    """Receptionists booking (and now and then cancelling) at a steady rate."""

    def __init__(self, base: str, token: str, rate: float, writers: int) -> None:
        self.base, self.token = base, token
        self.interval = writers / rate
        self.writers = writers
        self.booked: dict[str, float] = {}  # appointment id (hex) -> when its 201 arrived
        self.errors = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        day = time.strftime("%Y-%m-%d", time.localtime(time.time() + 86400 * 2))
        query = f"Slot?status=free&start=ge{day}&_count=200"
        self.slots = _ids(base, token, query)
        self.patients = _ids(base, token, "Patient?family=a&_count=200")

    def _book(self, rng: random.Random) -> None:
        slot, patient = rng.choice(self.slots), rng.choice(self.patients)
        body = {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{slot}"}],
            "participant": [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"}],
        }
        status, created = _call(self.base, self.token, "POST", "Appointment", body)
        if status == 201:
            with self.lock:
                self.booked[created["id"].replace("-", "")] = time.monotonic()
            if rng.random() < 0.3:  # a third are cancelled again: frees the slot, another change
                created["status"] = "cancelled"
                created["cancelationReason"] = {"text": "Patient rang to cancel"}
                cancelled, _ = _call(
                    self.base, self.token, "PUT", f"Appointment/{created['id']}", created
                )
                self.errors += cancelled != 200
        elif status != 409:
            self.errors += 1

    def _writer(self, seed: int) -> None:
        rng = random.Random(seed)
        next_at = time.monotonic() + rng.random() * self.interval
        while not self.stop.is_set():
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += self.interval
            self._book(rng)

    def run(self, seconds: float) -> None:
        threads = [threading.Thread(target=self._writer, args=(n,)) for n in range(self.writers)]
        for t in threads:
            t.start()
        time.sleep(seconds)
        self.stop.set()
        for t in threads:
            t.join()


def watch(database: Path, load: Load, done: threading.Event, lags: list[float]) -> None:
    """Note when each booking is in the node's database (for up to a minute after the load)."""
    seen: set[str] = set()
    deadline = None
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        while not done.is_set() or len(seen) < len(load.booked):
            if done.is_set():
                deadline = deadline or time.monotonic() + 60
                if time.monotonic() > deadline:
                    return
            with load.lock:
                waiting = [a for a in load.booked if a not in seen]
            if waiting:
                marks = ",".join("?" * len(waiting))
                rows = db.execute(
                    f"SELECT id FROM appointments_appointment WHERE id IN ({marks})", waiting
                ).fetchall()
                now = time.monotonic()
                for (found,) in rows:
                    seen.add(found)
                    lags.append(now - load.booked[found])
            time.sleep(0.2)


def applied(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return db.execute("SELECT changes_applied FROM node_followerstate").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=60, help="seconds of steady load")
    parser.add_argument("--rate", type=float, default=5, help="bookings per second")
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()

    with ExitStack() as stack:
        env = benchmark_env(stack)
        steadfast(env, "migrate", "--no-input")
        started = time.monotonic()
        steadfast(env, "demo", "--patients", str(args.patients))
        print(f"demo practice loaded in {time.monotonic() - started:.0f} s", flush=True)
        settle(env)
        ods = "Y99999"
        token = steadfast(env, "continuity", "node-token", "--practice", ods, "--name", "bench")
        staff_token = steadfast(env, "token", "demo-reception").strip()
        server, base = start_server(env, workers=2)
        stack.callback(stop_server, server)

        node_dir = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "node"
        node_env = {k: v for k, v in env.items() if k not in ("DATABASE_URL", "STEADFAST_VAR_DIR")}
        node_env |= {"STEADFAST_NODE": "1", "STEADFAST_VAR_DIR": str(node_dir)}
        started = time.monotonic()
        try:
            out = steadfast(node_env, "node", "init", "--upstream", base, "--token", token.strip())
        except subprocess.CalledProcessError as exc:
            sys.exit(f"node init failed: {exc.stderr[-3000:]}")
        initial_s = time.monotonic() - started
        print(out.strip(), flush=True)

        follower = subprocess.Popen(
            [str(BIN / "steadfast"), "node", "follow"],
            env=node_env,
            stdout=subprocess.DEVNULL,
            stderr=None if os.environ.get("BENCHMARK_SERVER_LOG") else subprocess.DEVNULL,
        )
        stack.callback(follower.terminate)
        database = node_dir / "steadfast.sqlite3"
        load = Load(base, staff_token, args.rate, args.writers)
        before = applied(database)
        lags: list[float] = []
        done = threading.Event()
        watcher = threading.Thread(target=watch, args=(database, load, done, lags))
        watcher.start()
        load.run(args.duration)
        changes_per_s = (applied(database) - before) / args.duration
        done.set()
        watcher.join()
        print(
            f"{len(load.booked)} bookings, {len(lags)} seen on the node, {load.errors} errors",
            flush=True,
        )
        if load.errors or len(lags) < len(load.booked):
            sys.exit("follow: the load had errors or the node missed bookings")
        print(
            f"follow: patients={args.patients} initial_s={initial_s:.1f} "
            f"lag_p95_s={percentile(lags, 95):.1f} changes_per_s={changes_per_s:.1f}"
        )


if __name__ == "__main__":
    main()
