"""An independent FHIR client (fhirpy) drives the API over HTTP: find, book, clash, cancel."""

import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome

from steadfast.fhir.auth import make_token
from tests.factories import GPFactory, PatientFactory, SlotFactory, UserFactory, tomorrow
from tests.fhir.helpers import validate
from tests.fhir.record import record_every_kind


@pytest.mark.django_db(transaction=True)
def test_fhirpy_books_clashes_cancels_and_sees_the_slot_free_again(live_server):
    gp = GPFactory()
    receptionist = UserFactory(practice=gp.practice)
    patient = PatientFactory(practice=gp.practice)
    other = PatientFactory(practice=gp.practice)
    wanted = SlotFactory(clinician=gp)
    SlotFactory(clinician=gp)
    fhir = SyncFHIRClient(
        f"{live_server.url}/fhir", authorization=f"Bearer {make_token(receptionist)}"
    )
    day = tomorrow().isoformat()

    def free_slot_ids() -> list[str]:
        found = fhir.resources("Slot").search(status="free", start=[f"ge{day}", f"le{day}"])
        slots = found.fetch_all()
        for s in slots:
            validate(s.serialize())
        return [s.id for s in slots]

    assert str(wanted.pk) in free_slot_ids()

    def booking(who):
        return fhir.resource(
            "Appointment",
            status="booked",
            slot=[{"reference": f"Slot/{wanted.pk}"}],
            participant=[{"actor": {"reference": f"Patient/{who.pk}"}, "status": "accepted"}],
        )

    appointment = booking(patient)
    appointment.save()
    validate(appointment.serialize())
    assert appointment["status"] == "booked"
    assert str(wanted.pk) not in free_slot_ids()

    with pytest.raises(OperationOutcome) as clash:
        booking(other).save()
    assert "no longer available" in str(clash.value)

    appointment["status"] = "cancelled"
    appointment["cancelationReason"] = {"text": "Patient feeling better"}
    appointment.save()
    assert appointment["status"] == "cancelled"
    assert str(wanted.pk) in free_slot_ids()
    read_back = fhir.reference("Appointment", appointment.id).to_resource()
    assert validate(read_back.serialize())["status"] == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_fhirpy_reads_a_patients_whole_record_with_everything(live_server):
    gp = GPFactory()
    patient = PatientFactory(practice=gp.practice)
    entries = record_every_kind(patient, gp)
    fhir = SyncFHIRClient(f"{live_server.url}/fhir", authorization=f"Bearer {make_token(gp)}")

    bundle = validate(fhir.execute(f"Patient/{patient.pk}/$everything", method="get"))
    found = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]}
    assert ("Patient", str(patient.pk)) in found
    expected = {(t, str(e.pk)) for t, e in entries.items() if t != "MedicationStatement"}
    assert expected <= found
    conditions = fhir.resources("Condition").search(patient=f"Patient/{patient.pk}").fetch_all()
    assert [c.id for c in conditions] == [str(entries["Condition"].pk)]
