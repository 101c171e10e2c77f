"""A restricted record in API search results: only its name, birth date and the restricted
label, through Patient search and Appointment `_include` alike; and every search audited with
the ids it returned."""

import uuid

import pytest

from steadfast.appointments import services as appointments
from steadfast.audit.models import AuditEvent
from steadfast.audit.services import break_glass
from tests.factories import PatientFactory, SlotFactory, UserFactory
from tests.fhir.helpers import FHIRClient, ids

RESTRICTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
    "code": "R",
    "display": "restricted",
}
SHOWN = {"resourceType", "id", "meta", "name", "birthDate"}


@pytest.fixture
def hidden(practice, gp):
    return PatientFactory(
        practice=practice,
        usual_gp=gp,
        given_name="Harriet",
        family_name="Lockwood",
        phone="0113 496 0999",
        is_sensitive=True,
    )


def _only_name_and_birth_date(resource: dict, patient) -> None:
    assert set(resource) == SHOWN
    assert resource["meta"]["security"] == [RESTRICTED]
    assert resource["name"][0]["family"] == "Lockwood"
    assert resource["birthDate"] == patient.date_of_birth.isoformat()


def test_patient_search_shows_a_restricted_record_only_by_name_and_birth_date(api, hidden, patient):
    response = api.get("Patient?family=lockwood&given=harriet")
    [entry] = response.fhir["entry"]
    _only_name_and_birth_date(entry["resource"], hidden)
    text = response.content.decode()
    for detail in (hidden.nhs_number, hidden.postcode, "496 0999", hidden.address_line1):
        assert detail not in text
    # An ordinary record still shows in full.
    [open_entry] = api.get("Patient?family=winterbottom").fhir["entry"]
    assert open_entry["resource"]["identifier"][0]["value"] == patient.nhs_number


def test_appointment_include_shows_a_restricted_record_only_by_name_and_birth_date(api, gp, hidden):
    appointments.book_appointment(SlotFactory(clinician=gp).pk, hidden, gp)
    response = api.get("Appointment?_include=Appointment:patient")
    [included] = [e["resource"] for e in response.fhir["entry"] if e["search"]["mode"] == "include"]
    _only_name_and_birth_date(included, hidden)
    assert hidden.nhs_number not in response.content.decode()


def test_a_reader_who_opens_the_record_sees_it_labelled_restricted(client, hidden):
    nurse = UserFactory(practice=hidden.practice, role="nurse")
    break_glass(nurse, hidden, "Reviewing a hospital letter")
    body = FHIRClient(client, nurse).get(f"Patient/{hidden.pk}").fhir
    assert body["identifier"][0]["value"] == hidden.nhs_number
    assert body["meta"]["security"] == [RESTRICTED]


def _ids_audited(user, action: str) -> set[uuid.UUID]:
    found = set()
    for event in AuditEvent.objects.filter(user_id=user.pk, action=action):
        found |= {uuid.UUID(word) for word in event.detail.split(": ", 1)[-1].split()}
    return found


def test_patient_search_is_audited_with_the_ids_it_returned(api, receptionist, practice):
    smiths = [PatientFactory(practice=practice, family_name="Smithson") for _ in range(7)]
    PatientFactory(practice=practice, family_name="Jones")
    bundle = api.get("Patient?family=smithson&_count=6").fhir
    assert len(ids(bundle, "Patient")) == 6
    audited = _ids_audited(receptionist, "search_patients")
    assert audited == {uuid.UUID(i) for i in ids(bundle, "Patient")}
    assert audited < {p.pk for p in smiths}
    for event in AuditEvent.objects.filter(action="search_patients"):
        assert "smith" not in event.detail.lower()


def test_appointment_search_is_audited_with_the_patients_it_returned(
    api, receptionist, gp, patient
):
    appointments.book_appointment(SlotFactory(clinician=gp).pk, patient, gp)
    api.get("Appointment?_include=Appointment:patient")
    assert _ids_audited(receptionist, "search_appointments") == {patient.pk}
