"""Patient data is confined to the user's practice below the views (django-scopes)."""

import pytest
from django_scopes import ScopeError, scope

from steadfast.appointments.models import Appointment, Slot
from steadfast.patients.models import Patient
from tests.factories import PatientFactory, PracticeFactory, SlotFactory

pytestmark = pytest.mark.django_db


def test_queries_in_a_practice_scope_see_only_that_practice():
    mine, theirs = PracticeFactory(), PracticeFactory()
    PatientFactory(practice=mine)
    stranger = PatientFactory(practice=theirs)
    SlotFactory(clinician__practice=theirs)
    with scope(practice=[mine.pk]):
        assert Patient.objects.count() == 1
        assert not Patient.objects.filter(pk=stranger.pk).exists()
        assert Slot.objects.count() == 0
        assert Appointment.objects.count() == 0


def test_an_empty_scope_sees_nothing():
    PatientFactory()
    with scope(practice=[]):
        assert Patient.objects.count() == 0


def test_a_query_outside_any_scope_fails_loudly_instead_of_seeing_everything():
    PatientFactory()
    # A scope without the practice dimension, as a forgotten scope would be:
    with scope(), pytest.raises(ScopeError):
        Patient.objects.count()
