"""`steadfast demo`: a synthetic practice, loaded once, never over real data."""

import io
import re
from base64 import b32decode

import pytest
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp

from steadfast.accounts.models import User
from steadfast.appointments.models import Appointment, AppointmentStatus, Slot
from steadfast.patients.models import Patient
from steadfast.patients.nhs_numbers import normalise_nhs_number
from steadfast.practices.models import Practice
from steadfast.records.models import (
    Allergy,
    Consultation,
    ConsultationVersion,
    Document,
    Immunisation,
    Medication,
    MedicationIssue,
    NoKnownAllergies,
    Observation,
    PatientFlag,
    Problem,
)
from tests.factories import PracticeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def demo_env(settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("STEADFAST_DEMO_PASSWORD", raising=False)


def run_demo(**options) -> str:
    out = io.StringIO()
    call_command("demo", stdout=out, **options)
    return out.getvalue()


def test_demo_loads_a_synthetic_practice_with_logins(client):
    output = run_demo(patients=300, weeks=1, seed=7)
    password = output.split("password ")[1].split()[0]
    for username in ("demo-reception", "demo-gp", "demo-nurse", "demo-manager"):
        assert username in output
        # django-axes needs a request to authenticate; its documented stand-in for tests.
        assert client.login(request=HttpRequest(), username=username, password=password)
    assert User.objects.filter(role__in=["gp", "nurse", "hca"]).count() == 8
    numbers = list(Patient.objects.values_list("nhs_number", flat=True))
    assert len(numbers) == 300
    assert all(n.startswith("999") and normalise_nhs_number(n) == n for n in numbers)


def test_demo_books_most_past_slots_with_some_did_not_attend():
    run_demo(patients=300, weeks=2)
    past = Slot.objects.filter(end__lte=timezone.now())
    finished_or_dna = Appointment.objects.filter(
        status__in=[AppointmentStatus.FINISHED, AppointmentStatus.DID_NOT_ATTEND]
    )
    share = finished_or_dna.count() / past.count()
    dna = finished_or_dna.filter(status=AppointmentStatus.DID_NOT_ATTEND).count()
    assert 0.6 < share < 0.8
    assert 0.01 < dna / finished_or_dna.count() < 0.1


def test_demo_uses_the_password_from_the_environment(client, monkeypatch):
    monkeypatch.setenv("STEADFAST_DEMO_PASSWORD", "a-long-demo-password")
    run_demo(patients=50, weeks=1)
    assert client.login(request=HttpRequest(), username="demo-gp", password="a-long-demo-password")


def test_demo_prints_the_authenticator_secret_that_lets_the_gp_in(client):
    output = run_demo(patients=50, weeks=1)
    password = output.split("password ")[1].split()[0]
    secret = re.search(r"demo-gp .*TOTP secret: ([A-Z2-7 ]+)", output).group(1)
    assert re.search(r"demo-manager .*TOTP secret:", output)
    assert "TOTP" not in next(line for line in output.splitlines() if "demo-reception" in line)

    login = {"username": "demo-gp", "password": password}
    asked = client.post(reverse("accounts:login"), login, follow=True)
    assert "Enter your security code" in asked.content.decode()
    code = f"{totp(b32decode(secret.replace(' ', ''))):06d}"
    response = client.post(asked.redirect_chain[-1][0], {"code": code}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("appointments:my_list")


def test_demo_loads_only_once():
    run_demo(patients=50, weeks=1)
    again = run_demo(patients=50, weeks=1)
    assert "already loaded" in again
    assert Patient.objects.count() == 50


def test_demo_is_deterministic_for_a_seed():
    run_demo(patients=40, weeks=1, seed=3)
    first = sorted(Patient.objects.values_list("nhs_number", "family_name", "date_of_birth"))
    clinical = (
        ConsultationVersion,
        MedicationIssue,
        Medication,
        Observation,
        Immunisation,
        Problem,
        Allergy,
        NoKnownAllergies,
        PatientFlag,
        Document,
        Consultation,
    )
    for model in (*clinical, Appointment, Slot, Patient, User, Practice):  # children first
        model.objects.all().delete()
    run_demo(patients=40, weeks=1, seed=3)
    assert (
        sorted(Patient.objects.values_list("nhs_number", "family_name", "date_of_birth")) == first
    )


def test_demo_refuses_a_database_with_real_data():
    PracticeFactory(is_demo=False)
    with pytest.raises(CommandError, match="not the demo practice"):
        run_demo(patients=10, weeks=1)
    assert not Patient.objects.exists()
