"""Every API operation, as every role, another practice and nobody: the FHIR twin of
tests/test_access_matrix.py, derived from the same activity table."""

import pytest

from steadfast.accounts.access import ACTIVITIES
from steadfast.accounts.models import Role
from steadfast.appointments import services as appointments
from steadfast.fhir.api import api as fhir_api
from tests.factories import GPFactory, PatientFactory, SlotFactory, UserFactory
from tests.fhir.helpers import FHIRClient
from tests.fhir.record import record_every_kind

OPERATIONS = [
    (method, path, op.view_func)
    for path, ops in fhir_api.get_openapi_schema()["paths"].items()
    for method in ops
    for op in [
        o
        for router in fhir_api._get_bound_routers()
        for p, view in router.path_operations.items()
        for o in view.operations
        if f"/fhir{p}" == path and method.upper() in o.methods
    ]
    if path not in ("/fhir/metadata",)
]
IDENTITIES = [*(r.value for r in Role), "other_practice", "anonymous"]


def test_every_operation_declares_its_activity():
    assert OPERATIONS
    for _, _, view in OPERATIONS:
        assert view.activities and all(a in ACTIVITIES for a in view.activities)


@pytest.fixture
def world(db):
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    booked = appointments.book_appointment(SlotFactory(clinician=gp).pk, patient, gp)
    entries = record_every_kind(patient, gp)
    ids = {
        **{resource_type: entry.pk for resource_type, entry in entries.items()},
        "Bundle": "import",
        "_history": "history",  # system history: a practice node's token only
        "$reconcile-downtime": "batch",  # a practice node's downtime journal: its token only
        "Patient": patient.pk,
        "Appointment": booked.pk,
        "Slot": booked.slot_id,
        "Schedule": gp.pk,
        "Practitioner": gp.pk,
        "PractitionerRole": gp.pk,
        "Location": gp.practice_id,
        "Organization": gp.practice_id,
    }
    return gp.practice, ids


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize(
    ("method", "path", "view"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_role_may_or_may_not_use_each_operation(client, world, method, path, view, identity):
    practice, known = world
    resource_type = path.split("/")[2] or "Bundle"  # POST /fhir/ takes a transaction Bundle
    url = path.replace("/fhir/", "").replace("{resource_id}", str(known[resource_type]))
    allowed = frozenset().union(*(ACTIVITIES[a] for a in view.activities))
    if identity == "anonymous":
        user = None
    elif identity == "other_practice":
        user = UserFactory(role=sorted(allowed)[0])
    else:
        user = UserFactory(practice=practice, role=identity)
    api = FHIRClient(client, user)
    body = {"resourceType": resource_type, "id": str(known[resource_type])}
    response = api.request(method.lower(), url, None if method == "get" else body)
    if identity == "anonymous":
        assert response.status_code == 401
    elif identity == "other_practice":
        if "{resource_id}" in path:
            assert response.status_code == 404
        elif method == "get":  # a search: nothing of the first practice's in it
            found = {e["resource"]["id"] for e in response.fhir.get("entry", [])}
            assert str(known[resource_type]) not in found
    elif identity in allowed:
        assert response.status_code in (200, 201, 400, 422)
    else:
        assert response.status_code == 403
