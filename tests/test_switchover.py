"""While the database cannot be reached (a failover under way), pages and the API say "switching
over, try again" with HTTP 503 and Retry-After, never a stack trace; once it is back, the next
request works by itself."""

import json
import urllib.error
import urllib.request
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection

from steadfast.fhir.auth import make_token
from tests.factories import GPFactory, UserFactory, force_login_verified


@contextmanager
def database_refusing_connections():
    """New connections refused and existing ones (but this test's own) cut, as when the primary
    dies and no replica has been promoted yet."""
    db = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        ours = cursor.fetchone()[0]
    admin = psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname="postgres", autocommit=True
    )
    with admin:
        admin.execute(f'ALTER DATABASE "{db["NAME"]}" WITH ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> %s",
            [db["NAME"], ours],
        )
        try:
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{db["NAME"]}" WITH ALLOW_CONNECTIONS true')


def fetch(url: str, **headers) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_unreachable_database_gives_503_switching_over_then_recovers(live_server, client):
    reception = UserFactory(practice=GPFactory().practice)
    force_login_verified(client, reception)
    cookie = {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}
    token = {"Authorization": f"Bearer {make_token(reception)}"}
    book, api = f"{live_server.url}/appointments/", f"{live_server.url}/fhir/Practitioner"
    assert fetch(book, **cookie)[0] == 200 and fetch(api, **token)[0] == 200

    with database_refusing_connections():
        status, headers, page = fetch(book, **cookie)
        assert (status, headers["Retry-After"]) == (503, "5")
        assert "The system is switching over" in page and "Traceback" not in page
        status, headers, fragment = fetch(book, **cookie, **{"HX-Request": "true"})
        assert status == 503 and 'id="book-message"' in fragment
        status, headers, body = fetch(api, **token)
        assert (status, headers["Retry-After"]) == (503, "5")
        assert headers["Content-Type"].startswith("application/fhir+json")
        issue = json.loads(body)["issue"][0]
        assert (issue["code"], issue["severity"]) == ("transient", "error")

    assert fetch(book, **cookie)[0] == 200 and fetch(api, **token)[0] == 200
