"""`steadfast token USERNAME` prints a bearer token that works as that user."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.fhir.helpers import FHIRClient


def test_token_command_prints_a_working_token(client, receptionist, patient):
    out = StringIO()
    call_command("token", receptionist.username, stdout=out, stderr=StringIO())
    token = out.getvalue().strip()
    response = FHIRClient(client, token=token).get(f"Patient/{patient.pk}")
    assert response.status_code == 200


def test_token_command_refuses_unknown_users(db):
    with pytest.raises(CommandError, match="No user"):
        call_command("token", "nobody-here", stdout=StringIO(), stderr=StringIO())
