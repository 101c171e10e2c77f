import pytest

from tests.factories import GPFactory, PatientFactory, UserFactory
from tests.fhir.helpers import FHIRClient


@pytest.fixture
def gp(db):
    return GPFactory()


@pytest.fixture
def practice(gp):
    return gp.practice


@pytest.fixture
def receptionist(practice):
    return UserFactory(practice=practice)


@pytest.fixture
def patient(practice):
    return PatientFactory(practice=practice, family_name="Winterbottom", postcode="LS1 5HD")


@pytest.fixture
def api(client, receptionist):
    """The API as the practice's receptionist."""
    return FHIRClient(client, receptionist)
