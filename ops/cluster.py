#!/usr/bin/env python3
"""A three-member Patroni cluster on one machine, from the same templates as three real hosts.

    ops/cluster.py start DIR [--fast]    etcd + 3 Patroni members + pgBackRest stanza, then prints
                                         the DATABASE_URL for Steadfast
    ops/cluster.py status DIR            each member's role and state
    ops/cluster.py stop DIR              stops Patroni (which stops PostgreSQL) and etcd cleanly

Everything lives under DIR (data, configuration, logs, the backup repository, cluster.json with
ports, pids and generated passwords). PostgreSQL, Patroni and pgBackRest refuse to run as root,
so as root they run as the `postgres` user. Patroni comes from its own virtualenv (`make
ops-venv`, from requirements/ops-lock.txt), which that user can read; etcd is Debian's
etcd-server, PostgreSQL 15 and pgBackRest Debian's too. Tests and benchmarks import LocalCluster.
"""

import argparse
import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from string import Template

OPS = Path(__file__).resolve().parent
TEMPLATES = OPS / "templates"
SCOPE = "steadfast"
STANZA = "steadfast"
APP_USER = APP_DB = "steadfast"
# Production timing: a dead primary is replaced within about ttl + 2 s (Patroni's own acceptance
# test expects 22 s at ttl 20). Tests use FAST so the suite fits its time budget.
PRODUCTION = {"TTL": 20, "LOOP_WAIT": 5, "RETRY_TIMEOUT": 7}
FAST = {"TTL": 10, "LOOP_WAIT": 2, "RETRY_TIMEOUT": 4}


class ClusterUnavailable(RuntimeError):
    """A prerequisite is missing or the cluster did not come up; the message says which."""


def pg_bindir() -> Path:
    for candidate in (os.environ.get("PG_BINDIR", ""), "/usr/lib/postgresql/15/bin"):
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise ClusterUnavailable("PostgreSQL 15 not found (install postgresql-15, or set PG_BINDIR)")


def patroni_venv() -> Path:
    """Where `make ops-venv` puts Patroni: outside the checkout when root, so that the postgres
    user can run it whatever folder the checkout is in."""
    default = "/opt/steadfast/patroni" if os.geteuid() == 0 else str(OPS.parent / "var/patroni")
    return Path(os.environ.get("PATRONI_VENV", default))


def prerequisites() -> list[str]:
    """What is missing to run a local cluster (empty when all is there)."""
    missing = []
    try:
        pg_bindir()
    except ClusterUnavailable as exc:
        missing.append(str(exc))
    for tool, package in (("etcd", "etcd-server"), ("pgbackrest", "pgbackrest")):
        if shutil.which(tool) is None:
            missing.append(f"{tool} not found (apt-get install {package})")
    if not (patroni_venv() / "bin/patroni").exists():
        missing.append(f"Patroni not installed in {patroni_venv()} (make ops-venv)")
    return missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_as_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise ClusterUnavailable("running as root needs a 'postgres' user to run as") from exc
    return "postgres"


@dataclass
class Member:
    name: str
    pg_port: int
    rest_port: int
    pid: int = 0

    def rest(self, path: str, timeout: float = 2) -> tuple[int, dict]:
        """GET from the member's Patroni REST API: (status, body); (0, {}) when unreachable."""
        url = f"http://127.0.0.1:{self.rest_port}/{path.lstrip('/')}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            body = error.read()
            try:
                return error.code, json.loads(body or b"{}")
            except ValueError:
                return error.code, {}
        except (OSError, ValueError):
            return 0, {}


@dataclass
class LocalCluster:
    root: Path
    timing: dict = field(default_factory=lambda: dict(PRODUCTION))
    size: int = 3
    members: list[Member] = field(default_factory=list)
    etcd_client_port: int = 0
    etcd_peer_port: int = 0
    etcd_pid: int = 0
    secrets: dict = field(default_factory=dict)
    run_as: str | None = None

    # -- paths and settings ------------------------------------------------------------------

    @property
    def state_file(self) -> Path:
        return self.root / "cluster.json"

    def data_dir(self, m: Member) -> Path:
        return self.root / m.name / "data"

    def pgbackrest_conf(self, m: Member) -> Path:
        return self.root / m.name / "pgbackrest.conf"

    def socket_dir(self, m: Member) -> Path:
        return self.root / m.name / "run"

    @property
    def repo_path(self) -> Path:
        return self.root / "backups"

    @property
    def database_url(self) -> str:
        """Steadfast's DATABASE_URL: every member, libpq keeps the writable one."""
        hosts = ",".join(f"127.0.0.1:{m.pg_port}" for m in self.members)
        password = self.secrets["app"]
        return f"postgresql://{APP_USER}:{password}@{hosts}/{APP_DB}"

    def dsn(self, m: Member, dbname: str = "postgres") -> str:
        """Superuser connection to one member."""
        password = self.secrets["superuser"]
        return f"postgresql://postgres:{password}@127.0.0.1:{m.pg_port}/{dbname}"

    def member(self, name: str) -> Member:
        return next(m for m in self.members if m.name == name)

    def _values(self, m: Member) -> dict:
        return {
            **{k: str(v) for k, v in self.timing.items()},
            "SCOPE": SCOPE,
            "STANZA": STANZA,
            "NAME": m.name,
            "HOST": "127.0.0.1",
            "LISTEN_HOST": "127.0.0.1",
            "REST_PORT": m.rest_port,
            "PG_PORT": m.pg_port,
            "ETCD_HOSTS": f"127.0.0.1:{self.etcd_client_port}",
            "DATA_DIR": self.data_dir(m),
            "PG_BINDIR": pg_bindir(),
            "PGPASS": self.root / m.name / "pgpass",
            "SOCKET_DIR": self.socket_dir(m),
            "PGBACKREST_CONF": self.pgbackrest_conf(m),
            "CLIENT_NETWORK": "127.0.0.1/32",
            # One machine: the socket is in a folder only the cluster's user can enter.
            "LOCAL_AUTH": "trust",
            "ARCHIVE_TIMEOUT": 60,
            "SUPERUSER_PASSWORD": self.secrets["superuser"],
            "REPLICATION_PASSWORD": self.secrets["replication"],
            "REWIND_PASSWORD": self.secrets["rewind"],
            "REPO_PATH": self.repo_path,
            "REPO_CIPHER_PASS": self.secrets["repo_cipher"],
            "LOG_PATH": self.root / "logs",
            "LOCK_PATH": self.root / m.name / "lock",
            "SPOOL_PATH": self.root / m.name / "spool",
            "ETCD_NAME": "etcd0",
            "ETCD_DATA_DIR": self.root / "etcd",
            "ETCD_CLIENT_PORT": self.etcd_client_port,
            "ETCD_PEER_PORT": self.etcd_peer_port,
            "ETCD_INITIAL_CLUSTER": f"etcd0=http://127.0.0.1:{self.etcd_peer_port}",
        }

    def _render(self, template: str, target: Path, values: dict) -> None:
        text = Template((TEMPLATES / template).read_text()).substitute(values)
        target.write_text(text)
        target.chmod(0o600)
        self._own(target)

    def _own(self, path: Path) -> None:
        if self.run_as:
            shutil.chown(path, user=self.run_as, group=self.run_as)

    def _spawn(self, argv: list[str], log: Path) -> int:
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                argv,
                user=self.run_as,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.root,
                start_new_session=True,  # signals to the caller's terminal do not reach it
                env={**os.environ, "PATH": f"{pg_bindir()}:{os.environ.get('PATH', '')}"},
            )
        return proc.pid

    def save(self) -> None:
        state = {k: v for k, v in asdict(self).items() if k != "root"}
        self.state_file.write_text(json.dumps(state, indent=2, default=str))
        self.state_file.chmod(0o600)

    @classmethod
    def load(cls, root: Path) -> "LocalCluster":
        state = json.loads((root / "cluster.json").read_text())
        members = [Member(**m) for m in state.pop("members")]
        return cls(root=root, members=members, **state)

    # -- starting ----------------------------------------------------------------------------

    def start(self, timeout: float = 180) -> "LocalCluster":
        if missing := prerequisites():
            raise ClusterUnavailable("; ".join(missing))
        self.run_as = run_as_user()
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        self._own(self.root)
        if self.run_as and subprocess.run(["test", "-w", self.root], user=self.run_as).returncode:
            raise ClusterUnavailable(f"{self.root} must be reachable by the user {self.run_as}")
        self.secrets = {
            k: secrets.token_urlsafe(24)
            for k in ("superuser", "replication", "rewind", "app", "repo_cipher")
        }
        self.etcd_client_port, self.etcd_peer_port = free_port(), free_port()
        self.members = [
            Member(f"pg{n}", pg_port=free_port(), rest_port=free_port()) for n in range(self.size)
        ]
        for path in [self.root / "logs", self.root / "etcd", self.repo_path]:
            path.mkdir(mode=0o700, exist_ok=True)
            self._own(path)
        self.save()
        try:
            self._start_etcd()
            deadline = time.monotonic() + timeout
            first, *others = self.members
            self.start_member(first)
            self.wait_for_leader(deadline - time.monotonic())
            for m in others:
                self.start_member(m)
            # Strict synchronous mode: no commit before a replica can acknowledge it.
            self.wait_until_replicating(len(others), deadline - time.monotonic())
            leader = self.wait_for_leader(deadline - time.monotonic())
            self.pgbackrest(leader, "stanza-create")
            self._create_app_database(leader)
        except BaseException:
            self.stop()  # leave nothing running behind a failed start
            raise
        return self

    def _start_etcd(self) -> None:
        values = self._values(self.members[0])
        config = self.root / "etcd.yml"
        self._render("etcd.yml", config, values)
        self.etcd_pid = self._spawn(
            ["etcd", "--config-file", str(config)], self.root / "logs/etcd.log"
        )
        self.save()
        url = f"http://127.0.0.1:{self.etcd_client_port}/health"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if json.loads(response.read()).get("health") == "true":
                        return
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        raise ClusterUnavailable(f"etcd did not start; see {self.root / 'logs/etcd.log'}")

    def start_member(self, m: Member) -> None:
        """Start (or restart) a member's Patroni; it starts or rejoins PostgreSQL itself."""
        home = self.root / m.name
        for path in (home, self.socket_dir(m), home / "lock", home / "spool"):
            path.mkdir(mode=0o700, exist_ok=True)
            self._own(path)
        values = self._values(m)
        self._render("patroni.yml", home / "patroni.yml", values)
        self._render("pgbackrest.conf", self.pgbackrest_conf(m), values)
        patroni = patroni_venv() / "bin/patroni"
        log = self.root / f"logs/{m.name}.log"
        m.pid = self._spawn([str(patroni), str(home / "patroni.yml")], log)
        self.save()

    def _create_app_database(self, leader: Member) -> None:
        import psycopg
        from psycopg import sql

        user, password = sql.Identifier(APP_USER), sql.Literal(self.secrets["app"])
        database = sql.Identifier(APP_DB)
        with psycopg.connect(self.dsn(leader), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(user, password))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(database, user))

    # -- watching ----------------------------------------------------------------------------

    def roles(self) -> dict[str, str]:
        """name: role as Patroni reports it (primary, replica, ...) or 'down'."""
        found = {}
        for m in self.members:
            status, body = m.rest("patroni")
            found[m.name] = body.get("role", "down") if status else "down"
        return found

    def leader(self) -> Member | None:
        for m in self.members:
            if m.rest("primary")[0] == 200:
                return m
        return None

    def wait_for_leader(self, timeout: float, other_than: str | None = None) -> Member:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            leader = self.leader()
            if leader and leader.name != other_than:
                return leader
            time.sleep(0.5)
        raise ClusterUnavailable(f"no primary after {timeout:.0f} s; logs in {self.root / 'logs'}")

    def cluster_view(self) -> dict:
        for m in self.members:
            status, body = m.rest("cluster")
            if status == 200:
                return body
        return {}

    def wait_until_replicating(self, replicas: int, timeout: float) -> None:
        """Until `replicas` members stream from the primary and one of them is synchronous."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            members = self.cluster_view().get("members", [])
            streaming = [m for m in members if m.get("state") == "streaming"]
            synchronous = [m for m in members if m.get("role") == "sync_standby"]
            if len(streaming) >= replicas and synchronous:
                return
            time.sleep(0.5)
        raise ClusterUnavailable(
            f"replicas not streaming after {timeout:.0f} s: {self.roles()}; logs in "
            f"{self.root / 'logs'}"
        )

    # -- breaking ----------------------------------------------------------------------------

    def postgres_pids(self, m: Member) -> list[int]:
        """The member's postmaster and every process it started."""
        try:
            postmaster = int((self.data_dir(m) / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return [postmaster, *_children(postmaster)]

    def kill_postgres(self, m: Member) -> None:
        """SIGKILL the member's PostgreSQL (postmaster and backends): a crash. Patroni lives on."""
        for pid in self.postgres_pids(m):
            _signal(pid, signal.SIGKILL)

    def kill_member(self, m: Member) -> None:
        """SIGKILL Patroni and PostgreSQL together: the host is lost."""
        pids = self.postgres_pids(m)
        _signal(m.pid, signal.SIGKILL)
        for pid in pids:
            _signal(pid, signal.SIGKILL)

    # -- backups -----------------------------------------------------------------------------

    def pgbackrest(self, m: Member, *args: str, timeout: float = 1800) -> str:
        """Run pgBackRest with the member's configuration (as the cluster's user)."""
        result = subprocess.run(
            ["pgbackrest", f"--config={self.pgbackrest_conf(m)}", f"--stanza={STANZA}", *args],
            user=self.run_as,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.root,
        )
        if result.returncode != 0:
            raise ClusterUnavailable(
                f"pgbackrest {args[0]} failed ({result.returncode}): {result.stderr[-2000:]}"
                f"{result.stdout[-1000:]}"
            )
        return result.stdout

    def backup(self, kind: str = "full") -> str:
        """A pgBackRest backup (full, diff or incr) of the current primary."""
        return self.pgbackrest(self.wait_for_leader(60), "backup", f"--type={kind}")

    def archive_now(self, timeout: float = 120) -> None:
        """Close the primary's current WAL segment and wait until it is in the repository."""
        import psycopg

        with psycopg.connect(self.dsn(self.wait_for_leader(60)), autocommit=True) as conn:
            closed = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                last = conn.execute("SELECT last_archived_wal FROM pg_stat_archiver").fetchone()[0]
                if last and last[8:] >= closed[8:]:  # same timeline: names sort by position
                    return
                time.sleep(0.5)
        raise ClusterUnavailable(f"WAL segment {closed} not archived after {timeout:.0f} s")

    # -- stopping ----------------------------------------------------------------------------

    def stop(self, timeout: float = 60) -> None:
        """Patroni stops its PostgreSQL on SIGTERM; whatever is left after `timeout` is killed."""
        for m in self.members:
            _signal(m.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for m in self.members:
            _wait_gone(m.pid, deadline)
            for pid in self.postgres_pids(m):
                _signal(pid, signal.SIGKILL)  # only if Patroni died without stopping it
        _signal(self.etcd_pid, signal.SIGTERM)
        _wait_gone(self.etcd_pid, time.monotonic() + 20)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _signal(pid: int, sig: int) -> None:
    if pid <= 0:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _wait_gone(pid: int, deadline: float) -> None:
    while pid > 0 and time.monotonic() < deadline:
        try:
            waited, _ = os.waitpid(pid, os.WNOHANG)  # our child: reap it
            if waited == pid:
                return
        except ChildProcessError:  # not our child (another invocation started it)
            if not Path(f"/proc/{pid}").exists():
                return
        time.sleep(0.2)
    _signal(pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "status", "stop"])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--fast", action="store_true", help="short ttl/loop_wait, for tests")
    args = parser.parse_args(argv)
    root = args.dir.resolve()
    if args.action == "start":
        cluster = LocalCluster(root, timing=dict(FAST if args.fast else PRODUCTION))
        try:
            cluster.start()
        except ClusterUnavailable as exc:
            print(f"cluster did not start: {exc}", file=sys.stderr)
            return 1
        print(f"DATABASE_URL={cluster.database_url}")
        return 0
    cluster = LocalCluster.load(root)
    if args.action == "status":
        for name, role in cluster.roles().items():
            print(f"{name} {role}")
        return 0
    cluster.stop()
    print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
