"""The failover drill: receptionists book over HTTP through `steadfast serve` on a three-member
Patroni cluster (ops/cluster.py) while a member is killed; then what they were told is checked
against what the database holds.

Each client is a receptionist at work: it books one free slot after another, half of them from
the day view's Book button (a signed-in page session, htmx POST with the form's idempotency key),
half through the FHIR API (bearer token, Idempotency-Key header). When an answer does not come
(503 "switching over", a dropped connection) it sends the same booking again, with the same key,
until it is answered: Retry-After says 5 s; the clients try again after 0.5 s so that the time to
recover is measured finely. Used by benchmarks/failover.py and tests/ops/test_failover.py.
"""

import http.cookiejar
import importlib.util
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "failover-drill-password-1"  # pragma: allowlist secret
# The tests' pace: a receptionist starts at most ten bookings a second, so 4 of them book at most
# 40/s and the demo's free slots last through every storm on however fast a machine.
PACE_S = 0.1
RECEPTIONIST = "demo-reception"
RETRY_PAUSE = 0.5
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
BOOKED_LINK = re.compile(r'href="/appointments/([0-9a-f-]{36})/"')


def load_cluster_module():
    """ops/cluster.py, which is a script for operators rather than part of the package."""
    spec = importlib.util.spec_from_file_location("steadfast_ops_cluster", ROOT / "ops/cluster.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cluster_module = load_cluster_module()


@dataclass
class Booking:
    key: str
    slot_id: str
    via: str  # "page" or "fhir"
    sent_at: float  # first attempt (monotonic)
    acked_at: float = 0.0
    last_attempt_at: float = 0.0
    appointment_id: str = ""
    refused: str = ""
    attempts: int = 0


@dataclass
class Tally:
    bookings: list[Booking] = field(default_factory=list)
    answers: dict[int, int] = field(default_factory=dict)  # HTTP status (0: no answer): count
    unexpected: list[str] = field(default_factory=list)
    ran_out_of_slots: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, status: int) -> None:
        with self.lock:
            self.answers[status] = self.answers.get(status, 0) + 1

    @property
    def acked(self) -> list[Booking]:
        return [b for b in self.bookings if b.appointment_id]


class Site:
    """The cluster, Steadfast migrated onto it with the demo practice, and `steadfast serve`."""

    def __init__(self, root: Path, *, fast: bool, patients: int = 300, weeks: int = 6) -> None:
        timing = cluster_module.FAST if fast else cluster_module.PRODUCTION
        root.chmod(0o755)  # the cluster runs as another user when we are root
        self.cluster = cluster_module.LocalCluster(root / "cluster", timing=dict(timing))
        self.var = root / "var"
        self.patients, self.weeks = patients, weeks
        self.demo_histories = False  # clinical records too (slower to load)
        self.server: subprocess.Popen | None = None
        self.base = ""

    @property
    def env(self) -> dict:
        return {
            **os.environ,
            "DATABASE_URL": self.cluster.database_url,
            "STEADFAST_VAR_DIR": str(self.var),
            "SECRET_KEY": "failover-drill-secret-key-" + "x" * 30,  # pragma: allowlist secret
            "STEADFAST_DEMO_PASSWORD": PASSWORD,
            "DJANGO_SETTINGS_MODULE": "steadfast.settings",
        }

    def steadfast(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "steadfast"), *args], env=self.env, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise RuntimeError(f"steadfast {args[0]} failed: {result.stderr[-3000:]}")
        return result.stdout

    def start(self, workers: int = 2, threads: int = 8) -> "Site":
        self.var.mkdir(parents=True, exist_ok=True)
        self.cluster.start()
        self.steadfast("migrate", "--no-input")
        demo = ["demo", "--patients", str(self.patients), "--weeks", str(self.weeks)]
        self.steadfast(*demo, *([] if self.demo_histories else ["--no-histories"]))
        self.token = self.steadfast("token", RECEPTIONIST).split()[-1]
        port = cluster_module.free_port()
        self.server = subprocess.Popen(
            [
                *(str(BIN / "steadfast"), "serve", "--bind", f"127.0.0.1:{port}", "--quiet"),
                *("--workers", str(workers), "--threads", str(threads)),
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=None if os.environ.get("FAILOVER_SERVER_LOG") else subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/fhir/metadata", timeout=2).close()
                return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("steadfast serve did not start")

    def stop(self, clean: bool = True) -> None:
        """Stop the server and the cluster; `clean=False` kills the cluster (a throwaway)."""
        if self.server:
            self.server.terminate()
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        if self.cluster.members:
            self.cluster.stop(timeout=60 if clean else 0)

    def query(self, sql: str, params=()) -> list[tuple]:
        import psycopg

        url = f"{self.cluster.database_url}?target_session_attrs=read-write&connect_timeout=5"
        with psycopg.connect(url) as conn:
            return conn.execute(sql, params).fetchall()

    def free_slots_and_patients(self) -> tuple[list[str], list[str]]:
        slots = self.query(
            "SELECT id FROM appointments_slot WHERE status = 'free' AND start > now()"
            " AND (embargoed_until IS NULL OR embargoed_until <= now()) ORDER BY start"
        )
        patients = self.query(
            "SELECT id FROM patients_patient WHERE registration_status IN"
            " ('registered', 'temporary')"
        )
        return [str(s) for (s,) in slots], [str(p) for (p,) in patients]


class Client(threading.Thread):
    """One receptionist booking slot after slot until told to stop."""

    def __init__(
        self, site: Site, via: str, slots, patients, tally: Tally, stop, pace_s: float = 0.0
    ) -> None:
        super().__init__(daemon=True)
        self.site, self.via, self.slots, self.patients = site, via, slots, patients
        self.tally, self.stop_event, self.pace_s = tally, stop, pace_s
        self.random = random.Random()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def _send(self, method: str, path: str, data: bytes | None, headers: dict):
        request = urllib.request.Request(
            self.site.base + path, data=data, headers=headers, method=method
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")
        except OSError:
            return 0, ""

    def sign_in(self) -> None:
        while not self.stop_event.is_set():
            status, page = self._send("GET", "/accounts/login/", None, {})
            if status == 200:
                form = {"csrfmiddlewaretoken": CSRF_INPUT.search(page)[1], "username": RECEPTIONIST}
                body = urllib.parse.urlencode(form | {"password": PASSWORD}).encode()
                headers = {"Referer": f"{self.site.base}/accounts/login/"}
                status, page = self._send("POST", "/accounts/login/", body, headers)
                if status == 200 and "Log out" in page:
                    return
            time.sleep(RETRY_PAUSE)

    def run(self) -> None:
        if self.via == "page":
            self.sign_in()
        while not self.stop_event.is_set():
            try:
                slot_id = self.slots.pop()
            except IndexError:
                with self.tally.lock:
                    self.tally.ran_out_of_slots = True
                return
            booking = Booking(str(uuid.uuid4()), slot_id, self.via, time.monotonic())
            with self.tally.lock:
                self.tally.bookings.append(booking)
            self.book(booking, self.random.choice(self.patients))
            if (rest := booking.sent_at + self.pace_s - time.monotonic()) > 0:
                self.stop_event.wait(rest)

    def book(self, booking: Booking, patient_id: str) -> None:
        """Send the booking until it is answered (booked, or refused by a rule)."""
        while True:
            booking.attempts += 1
            booking.last_attempt_at = time.monotonic()
            status, body = (self._by_page if self.via == "page" else self._by_fhir)(
                booking, patient_id
            )
            self.tally.count(status)
            if status in (0, 503):  # no answer, or "switching over": the same booking again
                if self.stop_event.is_set() and booking.attempts > 1:
                    return  # left unanswered at the end: checked, not counted as acknowledged
                time.sleep(RETRY_PAUSE)
                continue
            if status in (200, 201) and self._record_ack(booking, body):
                return
            booking.refused = f"{status}: {body[:300]}"
            with self.tally.lock:
                self.tally.unexpected.append(f"{self.via} {booking.refused}")
            return

    def _by_fhir(self, booking: Booking, patient_id: str):
        resource = {
            "resourceType": "Appointment",
            "status": "booked",
            "slot": [{"reference": f"Slot/{booking.slot_id}"}],
            "participant": [
                {"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"}
            ],
        }
        headers = {
            "Authorization": f"Bearer {self.site.token}",
            "Content-Type": "application/fhir+json",
            "Idempotency-Key": booking.key,
        }
        return self._send("POST", "/fhir/Appointment", json.dumps(resource).encode(), headers)

    def _by_page(self, booking: Booking, patient_id: str):
        form = {"patient": patient_id, "idempotency_key": booking.key, "reason": "Drill"}
        form["type_confirmed"] = "on"  # "Book anyway" when the slot's type may not suit
        headers = {
            "HX-Request": "true",
            "X-CSRFToken": self._csrf_cookie(),
            "Referer": f"{self.site.base}/appointments/",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        path = f"/appointments/slots/{booking.slot_id}/book/"
        return self._send("POST", path, urllib.parse.urlencode(form).encode(), headers)

    def _csrf_cookie(self) -> str:
        for handler in self.opener.handlers:
            if isinstance(handler, urllib.request.HTTPCookieProcessor):
                for cookie in handler.cookiejar:
                    if cookie.name == "csrftoken":
                        return cookie.value
        return ""

    def _record_ack(self, booking: Booking, body: str) -> bool:
        if self.via == "fhir":
            booking.appointment_id = json.loads(body).get("id", "")
        elif "Booked" in body and (link := BOOKED_LINK.search(body)):
            booking.appointment_id = link[1]
        booking.acked_at = time.monotonic()
        return bool(booking.appointment_id)


@dataclass
class Verdict:
    acked: int
    lost: int
    duplicate: int
    double_booked_slots: int
    rto_s: float
    unexpected: list[str]
    answers: dict[int, int]
    audit: str


def storm(
    site: Site,
    *,
    clients: int,
    before_s: float,
    after_s: float,
    kill,
    pace_s: float = 0.0,
    until=None,
) -> tuple:
    """Book with `clients` receptionists; `kill()` after `before_s`; go on `after_s` more.

    `pace_s`: each receptionist starts a booking at most that often, so that a fast machine
    cannot use up the demo's free slots before the storm ends (tests set it; benchmarks don't).
    `until(tally)`: after `after_s`, go on (up to a minute) until it holds, so that a slow
    machine still sees what the caller needs to see happen after the kill.
    Returns (tally, kill time)."""
    slots, patients = site.free_slots_and_patients()
    random.shuffle(slots)
    tally, stop = Tally(), threading.Event()
    workers = [
        Client(site, "page" if n % 2 == 0 else "fhir", slots, patients, tally, stop, pace_s)
        for n in range(clients)
    ]
    for w in workers:
        w.start()
    time.sleep(before_s)
    killed_at = time.monotonic()
    kill()
    time.sleep(after_s)
    deadline = time.monotonic() + 60
    while until is not None and not until(tally) and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.set()
    for w in workers:
        w.join(timeout=60)
    if tally.ran_out_of_slots:
        raise RuntimeError(f"the storm used up all {len(tally.bookings)} free slots: load more")
    return tally, killed_at


def verify(site: Site, tally: Tally, killed_at: float) -> Verdict:
    """What the clients were told against what the (new) primary holds."""
    keys = {b.key for b in tally.bookings}
    held = site.query(
        "SELECT split_part(idempotency_key, '|', 2), id::text FROM appointments_appointment"
        " WHERE idempotency_key LIKE 'urn:steadfast:booking|%%'"
    )
    by_key: dict[str, list[str]] = {}
    for key, appointment_id in held:
        if key in keys:
            by_key.setdefault(key, []).append(appointment_id.replace("-", ""))
    acked = tally.acked
    lost = sum(1 for b in acked if b.appointment_id.replace("-", "") not in by_key.get(b.key, []))
    duplicate = sum(len(ids) - 1 for ids in by_key.values())
    double = site.query(
        "SELECT count(*) FROM (SELECT slot_id FROM appointments_appointment"
        " WHERE status <> 'cancelled' GROUP BY slot_id HAVING count(*) > 1) AS d"
    )[0][0]
    # RTO: from the kill to the first booking acknowledged that was sent after it.
    first_ack_sent_after_kill = [
        b.acked_at for b in acked if b.acked_at > killed_at and b.last_attempt_at > killed_at
    ]
    rto = (min(first_ack_sent_after_kill) - killed_at) if first_ack_sent_after_kill else -1.0
    audit = site.steadfast("audit-verify").strip()
    return Verdict(
        acked=len(acked),
        lost=lost,
        duplicate=duplicate,
        double_booked_slots=double,
        rto_s=rto,
        unexpected=tally.unexpected,
        answers=dict(sorted(tally.answers.items())),
        audit=audit,
    )


def wait_for_role(site: Site, name: str, role: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if site.cluster.roles().get(name) == role:
            return True
        time.sleep(0.5)
    return False
