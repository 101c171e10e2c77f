"""Test set-up shared by every test.

`pytest` runs on SQLite; `pytest --postgres` runs the same tests on a throwaway PostgreSQL 15
started from the machine's binaries (one per pytest-xdist worker under `-n`). Tests marked
`postgres` run only in the PostgreSQL pass.
Where PostgreSQL or chromium is missing the affected tests skip, unless CI=true: there a
missing prerequisite fails the run, so CI can never pass by skipping.
"""

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import connection, connections
from django_scopes import scopes_disabled

from steadfast.audit.append_only import drop_sqlite_triggers
from steadfast.settings import database_settings
from steadfast.testing.postgres import PostgresUnavailable, ThrowawayPostgres

ON_CI = os.environ.get("CI", "").lower() == "true"
# Every test but the browser's starts at this instant (and the clock ticks on from it): a
# Wednesday morning, tomorrow a working day, no bank holiday near, no clock change for two weeks
# either side: no test breaks at midnight, over Christmas or at a clock change.
# Browser tests keep the real clock: chromium would treat cookies dated by a frozen server as
# long expired.
FROZEN_AT = datetime(2026, 11, 11, 10, 0, tzinfo=ZoneInfo("Europe/London"))


def pytest_addoption(parser):
    parser.addoption(
        "--postgres", action="store_true", help="run against a throwaway PostgreSQL server"
    )
    parser.addoption(
        "--cluster",
        action="store_true",
        help="also run the tests that start a Patroni cluster and kill its members",
    )


def missing_prerequisite(reason: str):
    """Skip, or on CI fail the whole run: CI must never go green by skipping."""
    if ON_CI:
        pytest.exit(f"CI=true and a test prerequisite is missing: {reason}", returncode=3)
    return pytest.mark.skip(reason=reason)


def pytest_configure(config):
    config.steadfast_pg = None
    config.steadfast_pg_error = None
    if not config.getoption("--postgres") or _is_xdist_controller(config):
        return
    try:
        pg = ThrowawayPostgres().start()
    except PostgresUnavailable as exc:
        config.steadfast_pg_error = str(exc)
        return
    config.steadfast_pg = pg
    # Connected as the server connects (server-side binding, prepared statements), but not
    # kept after a request: a test's threads open connections of their own that must close.
    db = database_settings(pg.url) | {"CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False}
    settings.DATABASES["default"] = db
    # pytest-django has set Django up on SQLite already: forget that connection.
    connections.__dict__.pop("settings", None)
    connections.close_all()
    del connections["default"]


def _is_xdist_controller(config) -> bool:
    """Under pytest-xdist (`-n 2`) each worker starts its own throwaway PostgreSQL; the
    controller runs no tests and needs none."""
    return not hasattr(config, "workerinput") and bool(getattr(config.option, "numprocesses", 0))


def pytest_unconfigure(config):
    if getattr(config, "steadfast_pg", None):
        config.steadfast_pg.stop()


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--cluster"):  # they start a cluster of their own: see tests/ops
        _deselect(config, items, [i for i in items if "cluster" in i.keywords])
    if config.getoption("--postgres"):
        if config.steadfast_pg_error:
            skip = missing_prerequisite(f"PostgreSQL unavailable: {config.steadfast_pg_error}")
            for item in items:
                item.add_marker(skip)
        return
    # The SQLite pass leaves PostgreSQL-only tests to the --postgres pass.
    _deselect(config, items, [i for i in items if "postgres" in i.keywords])


def _deselect(config, items, deselected) -> None:
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [i for i in items if i not in deselected]


@pytest.fixture(autouse=True)
def frozen_clock(request):
    """The clock at FROZEN_AT, ticking; `frozen_clock.move_to(...)` jumps it (time-machine)."""
    if "browser" in request.keywords:
        yield None
        return
    with time_machine.travel(FROZEN_AT, tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_practice_scope():
    """Tests set up data across practices; HTTP requests still run in the user's own scope."""
    with scopes_disabled():
        yield


@pytest.fixture(autouse=True)
def _audit_checkpoints_of_this_test(settings, tmp_path):
    """Each test has its own audit checkpoint file, and sends nothing to the machine's syslog."""
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints" / "checkpoints.log"
    settings.AUDIT_SYSLOG_ADDRESS = ""


@pytest.fixture(autouse=True)
def _sqlite_audit_triggers_out_of_the_flush(request, django_db_blocker):
    """After a transactional test pytest-django empties every table, on SQLite with DELETE, which
    the audit table's append-only triggers refuse: drop them just before. The flush sends
    post_migrate, which puts them back (audit/append_only.py)."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if transactional and connection.vendor == "sqlite":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            drop_sqlite_triggers(cursor)
