"""Bug 10: the demo record as a clinician reads it: no medicine a patient is allergic to, no
inhaler counted in tablets, no last year's antibiotic listed as current."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from steadfast.records import services
from steadfast.records.models import Allergy, Medication
from steadfast.records.queries import current_medications
from tests.factories import GPFactory, PatientFactory, force_login_verified

pytestmark = pytest.mark.django_db
PENICILLIN = "764146007"
AMOXICILLIN_CAPSULES = "323510009"


@pytest.fixture
def demo(settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("STEADFAST_DEMO_PASSWORD", raising=False)
    call_command("demo", patients=400, weeks=1, seed=11, stdout=io.StringIO())


def test_demo_medicines_read_as_a_clinician_expects(demo):
    allergic = Allergy.objects.filter(substance__code=PENICILLIN).values("patient_id")
    assert allergic.exists()
    amoxicillin = Medication.objects.filter(concept__code=AMOXICILLIN_CAPSULES)
    assert amoxicillin.exists()
    assert not amoxicillin.filter(patient_id__in=allergic).exists()

    puffs = Medication.objects.filter(dose__contains="puff")
    assert puffs.exists()
    assert set(puffs.values_list("quantity_unit", flat=True)) == {"inhaler"}

    old_acutes = Medication.objects.filter(
        kind="acute", occurred_at__lt=timezone.now() - timedelta(days=60)
    ).select_related("patient")
    assert old_acutes.exists()
    for medication in old_acutes[:50]:
        assert medication not in current_medications(medication.patient)


def test_one_reading_is_not_readings(client):
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    services.record_observation(patient, gp, services.NewObservation("pulse", "72"))
    force_login_verified(client, gp)
    page = client.get(f"/record/patients/{patient.pk}/observations/").content.decode()
    assert "(1 reading)" in page
    assert "(1 readings)" not in page
