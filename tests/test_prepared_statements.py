"""PostgreSQL plans a repeated statement once a connection (ADR 0023)."""

import pytest
from django.db import connection

from steadfast.settings import database_settings


def test_a_cluster_url_keeps_its_options_and_gains_binding_and_preparing():
    options = database_settings("postgresql://steadfast@db1:5432,db2:5432/steadfast")["OPTIONS"]
    assert options["target_session_attrs"] == "read-write"
    assert (options["server_side_binding"], options["prepare_threshold"]) == (True, 2)


def test_the_embedded_database_is_left_as_it_was():
    assert "prepare_threshold" not in database_settings("sqlite:///x.sqlite3")["OPTIONS"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_statement_run_twice_on_a_connection_is_prepared():
    statement = "SELECT count(*) FROM practices_practice WHERE ods_code = %s"
    with connection.cursor() as cursor:
        for code in ("Y00001", "Y00002", "Y00003"):
            cursor.execute(statement, [code])
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%FROM practices_practice WHERE ods_code = $1%"],
        )
        assert cursor.fetchone()[0] == 1
