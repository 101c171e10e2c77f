"""A throwaway PostgreSQL server for tests and benchmarks, started from the machine's binaries.

pytest-postgresql cannot be used as is: initdb refuses to run as root, and CI runs as root.
So this starts the server as the `postgres` system user when we are root (as yourself
otherwise), in a fresh temporary directory, listening only on 127.0.0.1, and removes it on stop.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_VERSIONS = ("15", "16", "17")


class PostgresUnavailable(RuntimeError):
    pass


def find_bindir() -> Path | None:
    """The bin directory of PostgreSQL (15 preferred), from $PG_BINDIR or Debian's layout."""
    candidates = [os.environ.get("PG_BINDIR", "")] + [
        f"/usr/lib/postgresql/{v}/bin" for v in PG_VERSIONS
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    def __init__(self, *, durable: bool = False, max_connections: int = 200) -> None:
        """`durable=False` turns fsync off: fine for tests, wrong for benchmarks."""
        self.bindir = find_bindir()
        if self.bindir is None:
            raise PostgresUnavailable(
                "PostgreSQL server binaries not found (install postgresql-15, or set PG_BINDIR)"
            )
        self.durable = durable
        self.max_connections = max_connections
        self.port = _free_port()
        self.user = "steadfast"
        self.run_as = None
        if os.geteuid() == 0:
            self.run_as = "postgres" if _user_exists("postgres") else "nobody"
        self.dir: Path | None = None

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            user=self.run_as,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.dir,
        )
        if result.returncode != 0:
            raise PostgresUnavailable(f"{args[0]} failed: {result.stderr.strip()[-2000:]}")

    def start(self) -> "ThrowawayPostgres":
        self.dir = Path(tempfile.mkdtemp(prefix="steadfast-pg-"))
        if self.run_as:
            shutil.chown(self.dir, user=self.run_as)
        data = self.dir / "data"
        self._run(
            "initdb",
            "-D",
            str(data),
            "-U",
            self.user,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        options = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.dir}",
            f"-c max_connections={self.max_connections}",
            "-c shared_buffers=256MB",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(
            "pg_ctl",
            "start",
            "-D",
            str(data),
            "-w",
            "-t",
            "60",
            "-l",
            str(self.dir / "postgres.log"),
            "-o",
            " ".join(options),
        )
        return self

    def stop(self) -> None:
        if self.dir is None:
            return
        try:
            self._run("pg_ctl", "stop", "-D", str(self.dir / "data"), "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> "ThrowawayPostgres":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
