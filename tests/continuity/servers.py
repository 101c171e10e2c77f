"""Live servers for the practice node tests: the central server (`steadfast serve` on the test's
PostgreSQL database) and a node (`steadfast node ...` in its own directory, on SQLite)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connection

STEADFAST = str(Path(sys.executable).with_name("steadfast"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    return f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _env(var: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "STEADFAST_NODE")}
    env |= {"STEADFAST_VAR_DIR": str(var), "SECRET_KEY": settings.SECRET_KEY, **extra}
    return env


class Central:
    """`steadfast serve` on the test database, on a free port."""

    def __init__(self, var: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = _env(var, DATABASE_URL=database_url())
        self.process = subprocess.Popen(
            [STEADFAST, "serve", f"--bind=127.0.0.1:{self.port}", "--workers=2", "--quiet"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: kill() takes the workers too
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/fhir/metadata", timeout=2)
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.stderr.read().decode()[-2000:]) from None
                time.sleep(0.3)
        raise RuntimeError("the central server did not start")

    def kill(self) -> None:
        """kill -9 of the server and its workers, as a crashed machine would leave them."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
                try:
                    s.bind(("127.0.0.1", self.port))
                    return
                except OSError:
                    time.sleep(0.2)
        raise RuntimeError("the killed central server's workers still hold its port")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Node:
    """`steadfast node ...` and friends, in node mode, in their own directory (SQLite)."""

    def __init__(self, var: Path) -> None:
        self.var = var
        self.env = _env(var, STEADFAST_NODE="1", STEADFAST_NODE_FOLLOW_SECONDS="0.5")
        self.following: subprocess.Popen | None = None

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [STEADFAST, *args], env=self.env, capture_output=True, text=True, timeout=300
        )
        if check and done.returncode != 0:
            raise AssertionError(f"steadfast {' '.join(args)}: {done.stderr[-3000:]}")
        return done

    def start_following(self) -> None:
        self.following = subprocess.Popen(
            [STEADFAST, "node", "follow"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop_following(self) -> None:
        if self.following is not None:
            self.following.terminate()  # a pass under way finishes or rolls back whole
            try:
                self.following.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.following.kill()
                self.following.wait(timeout=10)
            self.following = None

    def dump(self, labels: list[str]) -> list[dict]:
        """`dumpdata` of the node's tables (outside any practice scope)."""
        code = (
            "from django.core.management import call_command\n"
            "from django_scopes import scopes_disabled\n"
            "with scopes_disabled():\n"
            f"    call_command('dumpdata', *{labels!r})\n"
        )
        return json.loads(self.shell(code))

    def shell(self, code: str) -> str:
        return self.run("shell", "-v", "0", "-c", code).stdout
