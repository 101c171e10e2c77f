import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from steadfast.practices.models import Practice
from tests.factories import PracticeFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("code", ["A81001", "Y99999"])
def test_gp_practice_ods_codes_are_accepted(code):
    PracticeFactory.build(ods_code=code).full_clean()


@pytest.mark.parametrize("code", ["RR8", "a81001", "A8100", "AB1234", "A810011", "81001A"])
def test_other_ods_codes_are_rejected_with_a_message(code):
    with pytest.raises(ValidationError, match="one capital letter then five digits"):
        PracticeFactory.build(ods_code=code).full_clean()


def test_database_itself_refuses_a_malformed_ods_code():
    with pytest.raises(IntegrityError), transaction.atomic():
        PracticeFactory(ods_code="RR8")
    assert not Practice.objects.exists()
