"""DATABASE_URL: a Patroni cluster's members as one multi-host URL."""

from steadfast.database_url import parse

CLUSTER = (
    "postgresql://steadfast:s%40cret@db1:5432,db2:5433,db3"  # pragma: allowlist secret
    "/steadfast?sslmode=require"
)


def test_multi_host_url_lists_every_member_and_asks_for_the_writable_one():
    db = parse(CLUSTER, conn_max_age=60, conn_health_checks=True)
    assert (db["HOST"], db["PORT"]) == ("db1,db2,db3", "5432,5433,5432")
    assert (db["NAME"], db["USER"], db["PASSWORD"]) == ("steadfast", "steadfast", "s@cret")
    assert db["OPTIONS"] == {
        "target_session_attrs": "read-write",
        "connect_timeout": 3,
        "sslmode": "require",
    }
    assert db["CONN_HEALTH_CHECKS"] is True


def test_options_in_the_url_win_over_the_multi_host_defaults():
    db = parse("postgresql://u@a:1,b:2/x?target_session_attrs=primary&connect_timeout=10")
    assert db["OPTIONS"] == {"target_session_attrs": "primary", "connect_timeout": 10}


def test_single_host_and_sqlite_urls_are_as_dj_database_url_reads_them():
    assert parse("postgresql://u@a:5/x")["HOST"] == "a"
    assert "target_session_attrs" not in parse("postgresql://u@a:5/x").get("OPTIONS", {})
    assert parse("sqlite:////tmp/x.sqlite3")["NAME"] == "/tmp/x.sqlite3"
