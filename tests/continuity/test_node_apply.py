"""A node applying the history: entries that travel inside their parent's resource (issues,
earlier versions, problem links, status events) end up exactly as the central server has them,
and alerts and "no known allergies" statements come as resources of their own."""

import pytest
from django.db import transaction
from django_scopes import scopes_disabled

from steadfast.appointments.models import AppointmentEvent
from steadfast.continuity.node.follow import Applier
from steadfast.continuity.node.tokens import issue_node_token
from steadfast.records import services as records
from steadfast.records.models import (
    ConsultationVersion,
    MedicationIssue,
    NoKnownAllergies,
    PatientFlag,
    Problem,
)
from tests.factories import GPFactory, PatientFactory, SlotFactory, UserFactory
from tests.fhir.history import Follower, full_record

pytestmark = pytest.mark.django_db(transaction=True)  # on PostgreSQL changes number at commit

CLINICAL = (PatientFlag, NoKnownAllergies, MedicationIssue, ConsultationVersion, AppointmentEvent)
LINKS = Problem.consultations.through


def _snapshot() -> dict:
    with scopes_disabled():
        return {
            model: sorted(model._base_manager.values_list(), key=str)
            for model in (*CLINICAL, LINKS)
        }


@scopes_disabled()
def test_a_copy_missing_the_clinical_entries_gets_them_back_exactly(client):
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    full_record(patient, gp, UserFactory(practice=gp.practice), SlotFactory(clinician=gp))
    central = _snapshot()
    assert all(central.values())
    entries = Follower(client, issue_node_token(gp.practice, "pc")[1]).catch_up()

    with transaction.atomic():  # a node's pass: foreign keys checked at commit
        for model in (*CLINICAL, LINKS):
            model._base_manager.all().delete()
        Applier(gp.practice_id).apply(entries)

    assert _snapshot() == central


@scopes_disabled()
def test_a_child_gone_centrally_goes_from_the_copy(client):
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    rows = full_record(patient, gp, UserFactory(practice=gp.practice), SlotFactory(clinician=gp))
    entries = Follower(client, issue_node_token(gp.practice, "pc")[1]).catch_up()
    problem = Problem.objects.get(patient=patient)
    other = records.save_consultation(patient, gp, records.ConsultationNote("telephone", "Calls"))
    problem.consultations.add(other)  # a link the feed above never sent: as if removed since

    with transaction.atomic():
        Applier(gp.practice_id).apply(entries)

    assert list(problem.consultations.all()) == [rows["consultation"]]
