"""Schemathesis drives every operation in /fhir/openapi.json with generated requests, as a GP
with a token: whatever it sends, the answer is never a 500. Bounded so the whole run takes
seconds: a few examples per operation, no shrinking beyond that."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings

from steadfast.fhir.auth import make_token
from tests.fhir.record import record_every_kind

schema = schemathesis.openapi.from_wsgi("/fhir/openapi.json", get_wsgi_application())


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """As Django's test client does: a request must not close the test's transaction's
    connection (PostgreSQL would lose the test data)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(gp, patient, wsgi_keeps_the_test_connection):
    record_every_kind(patient, gp)  # so that some searches find something
    return make_token(gp)


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_never_get_a_500(case, token):
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
