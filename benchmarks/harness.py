"""What the HTTP benchmarks share: a PostgreSQL to run on, `steadfast` commands, a server to
measure, and a signed-in browser session (password, then the authenticator code if asked)."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from base64 import b32decode
from contextlib import ExitStack
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEMO_PASSWORD = "benchmark-password-1"  # pragma: allowlist secret
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def benchmark_env(stack: ExitStack) -> dict:
    """Environment for `steadfast`: DATABASE_URL when set, else a throwaway durable PostgreSQL."""
    env = dict(os.environ)
    env.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 30)
    env["STEADFAST_VAR_DIR"] = stack.enter_context(tempfile.TemporaryDirectory())
    env["STEADFAST_DEMO_PASSWORD"] = DEMO_PASSWORD
    env["DJANGO_SETTINGS_MODULE"] = "steadfast.settings"
    if "DATABASE_URL" not in env:
        sys.path.insert(0, str(ROOT))
        from steadfast.testing.postgres import ThrowawayPostgres

        env["DATABASE_URL"] = stack.enter_context(ThrowawayPostgres(durable=True)).url
    return env


def steadfast(env: dict, *args: str) -> str:
    return subprocess.run(
        [str(BIN / "steadfast"), *args], env=env, check=True, capture_output=True, text=True
    ).stdout


def settle(env: dict) -> None:
    """VACUUM ANALYZE after a bulk load, so autovacuum does not run during the measurement."""
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def demo_totp_secrets(demo_output: str) -> dict[str, str]:
    """username: base32 secret, from the logins `steadfast demo` prints."""
    found = re.findall(r"^\s*(demo-\S+)\s.*TOTP secret: ([A-Z2-7 ]+)$", demo_output, re.M)
    return {user: secret.replace(" ", "") for user, secret in found}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    env: dict, *, workers: int = 2, threads: int = 4, extra_env: dict | None = None
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            str(BIN / "steadfast"),
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--quiet",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ],
        env={**env, **(extra_env or {})},
        stdout=subprocess.DEVNULL,
        stderr=None if os.environ.get("BENCHMARK_SERVER_LOG") else subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


async def sign_in(
    session: aiohttp.ClientSession, base: str, username: str, totp_secret: str | None = None
) -> None:
    """Log in through the pages, as a person would; the session cookie stays in `session`."""
    async with session.get(f"{base}/accounts/login/") as r:
        token = CSRF_INPUT.search(await r.text())[1]
    data = {"csrfmiddlewaretoken": token, "username": username, "password": DEMO_PASSWORD}
    headers = {"Referer": f"{base}/accounts/login/"}
    async with session.post(f"{base}/accounts/login/", data=data, headers=headers) as r:
        page = await r.text()
        if r.status != 200 or (totp_secret and "Security code" not in page):
            raise RuntimeError(f"login of {username} failed: {r.status}")
        if totp_secret is None:
            return
        second_factor = str(r.url)
    from django_otp.oath import totp

    data = {
        "csrfmiddlewaretoken": CSRF_INPUT.search(page)[1],
        "code": f"{totp(b32decode(totp_secret)):06d}",
    }
    headers = {"Referer": second_factor}
    async with session.post(second_factor, data=data, headers=headers) as r:
        if r.status != 200 or "Security code" in await r.text():
            raise RuntimeError(f"second factor of {username} refused: {r.status}")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def process_stat(pid: int) -> tuple[str, int, float]:
    """(name, parent pid, CPU seconds used so far) of a process on this machine (Linux /proc);
    OSError once it has gone."""
    text = Path(f"/proc/{pid}/stat").read_text()
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
