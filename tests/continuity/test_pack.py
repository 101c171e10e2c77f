"""The downtime pack's contents, its encryption, and what it costs to build."""

import re
from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidTag
from django.db import connection
from django.test.utils import CaptureQueriesContext

from steadfast.appointments import services as appointments
from steadfast.audit.models import AuditEvent
from steadfast.continuity import services
from steadfast.continuity.crypto import KDF_ITERATIONS
from steadfast.records import services as records
from tests.continuity.conftest import PASSPHRASE, opened
from tests.factories import PatientFactory, SlotFactory, london, tomorrow
from tests.records.entries import AMLODIPINE_5MG, PENICILLIN, concept


def build(clinic, passphrase=PASSPHRASE, days=2) -> services.BuiltPack:
    return services.build_pack(clinic.practice, passphrase, days=days)


def by_name(pack: dict, family: str) -> dict:
    return next(p for p in pack["register"] if family.upper() in p["name"])


def test_pack_opens_with_the_passphrase_and_shows_lists_summaries_and_register(clinic):
    pack = opened(build(clinic).html)

    assert pack["practice"]["ods"] == clinic.practice.ods_code
    today, tomorrow_list = pack["days"]
    assert today["clinicians"] == []
    [column] = tomorrow_list["clinicians"]
    assert column["name"] == "Dr Ada Okonkwo"
    first = column["rows"][0]
    assert (first["time"], first["type"], first["reason"], first["status"]) == (
        "09:00",
        "Routine",
        "Blood pressure review",
        "Booked",
    )
    patient = pack["register"][first["patient"]]
    assert patient["name"] == "FAIRWEATHER, Imogen"
    nhs = clinic.booked.nhs_number
    assert patient["nhs"] == f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"
    assert patient["phone"] == "0113 496 0000"
    assert patient["allergies"] == ["Penicillin: anaphylaxis (severe)"]
    assert patient["medicines"][0].startswith("Amlodipine")
    assert "One daily" in patient["medicines"][0]
    assert patient["problems"][0].startswith("Essential hypertension")

    summary = pack["summaries"][patient["summary"]]
    assert summary["alerts"] == ["Cares for a relative: Looks after her mother"]
    assert [c["text"] for c in summary["consultations"]] == [
        ["History: Rash"],
        ["History: Cough"],
        ["History: Ankle swelling"],
    ]  # the last three, newest first
    assert summary["observations"] == [
        {
            "label": "Blood pressure",
            "value": "142/88 mmHg",
            "date": summary["observations"][0]["date"],
        }
    ]  # the latest of each kind only


def test_register_holds_every_registered_patient_and_no_deducted_one(clinic):
    pack = opened(build(clinic).html)
    names = [p["name"] for p in pack["register"]]
    assert names == [
        "ASHDOWN, Winifred",
        "FAIRWEATHER, Imogen",
        "HOLLOWELL, Quentin",
    ]


def test_no_known_allergies_is_told_apart_from_allergies_never_recorded(clinic):
    PatientFactory(practice=clinic.practice, given_name="Nobody", family_name="Asked")
    pack = opened(build(clinic).html)
    assert by_name(pack, "Ashdown")["allergy_status"].startswith("No known allergies (recorded ")
    assert by_name(pack, "Asked")["allergy_status"] == "Allergies not recorded"
    assert by_name(pack, "Fairweather")["allergy_status"] == ""


def test_restricted_patient_appears_by_name_only_with_restricted_record(clinic):
    pack = opened(build(clinic).html)
    entry = by_name(pack, "Hollowell")
    assert entry == {
        "name": "HOLLOWELL, Quentin",
        "keys": ["hollowell", "quentin"],
        "restricted": True,
    }
    row = pack["days"][1]["clinicians"][0]["rows"][1]
    assert pack["register"][row["patient"]] == entry
    assert row["reason"] == ""  # not "Private": a reason may say why the record is restricted
    assert all(pack["register"][s["patient"]]["name"] != entry["name"] for s in pack["summaries"])
    assert clinic.restricted.nhs_number not in str(pack)


def test_wrong_passphrase_cannot_open_the_pack(clinic):
    with pytest.raises(InvalidTag):
        opened(build(clinic).html, passphrase="kettle orchard lantern 43")


def test_file_holds_no_name_nhs_number_or_clinical_text(clinic):
    html = build(clinic).html
    lowered = html.lower()
    for patient in (clinic.booked, clinic.restricted, clinic.unbooked):
        assert patient.family_name.lower().encode() not in lowered
        assert patient.given_name.lower().encode() not in lowered
        digits = patient.nhs_number
        assert digits.encode() not in html
        assert f"{digits[:3]} {digits[3:6]} {digits[6:]}".encode() not in html
    for clinical in (
        b"penicillin",
        b"anaphylaxis",
        b"amlodipine",
        b"hypertension",
        b"blood pressure review",
    ):
        assert clinical not in lowered
    assert b"Passphrase" in html and b">Open<" in html  # only the lock is in the clear
    assert clinic.practice.name.encode() in html


def test_every_pack_has_a_fresh_salt_and_at_least_600000_iterations(clinic):
    first, second = build(clinic).html.decode(), build(clinic).html.decode()
    salt = re.compile(r'"salt":"([^"]+)"')
    assert salt.search(first)[1] != salt.search(second)[1]
    iterations = int(re.search(r'"iterations":(\d+)', first)[1])
    assert iterations == KDF_ITERATIONS >= 600_000


def test_changing_the_visible_header_stops_the_pack_opening(clinic):
    html = build(clinic).html.decode()
    made = re.search(r'"made_at":"([^"]+)"', html)[1]
    tampered = html.replace(f'"made_at":"{made}"', f'"made_at":"{made[:-6]}+09:00"', 1)
    with pytest.raises(InvalidTag):
        opened(tampered.encode())


def test_a_pack_needs_the_passphrase_the_manager_set(clinic):
    with pytest.raises(services.PassphraseProblem, match="not practice"):
        build(clinic, passphrase="someone else's guess")
    with pytest.raises(services.PassphraseProblem, match="No passphrase given"):
        build(clinic, passphrase="")


def test_building_is_audited_with_counts_and_no_names(clinic):
    built = build(clinic)
    event = AuditEvent.objects.get(action="build_downtime_pack")
    assert event.practice_id == clinic.practice.pk
    assert event.detail == f"{built.name} patients=3 booked=2"


def test_the_pack_is_built_in_the_same_number_of_queries_for_any_number_of_patients(clinic):
    with CaptureQueriesContext(connection) as small:
        build(clinic)
    for i in range(12):
        patient = PatientFactory(practice=clinic.practice)
        records.record_allergy(
            patient, clinic.gp, concept(PENICILLIN), severity="mild", certainty="suspected"
        )
        records.prescribe(
            patient,
            clinic.gp,
            records.NewMedication(concept(AMLODIPINE_5MG), "acute", "One daily", 28),
        )
        records.save_consultation(
            patient, clinic.gp, records.ConsultationNote("telephone", plan="Call back")
        )
        records.record_observation(patient, clinic.gp, records.NewObservation("pulse", "70"))
        start = london(tomorrow(), 11) + timedelta(minutes=10 * i)
        slot = SlotFactory(clinician=clinic.gp, start=start)
        appointments.book_appointment(slot.pk, patient, clinic.reception)
    with CaptureQueriesContext(connection) as large:
        built = build(clinic)
    assert built.booked == 14
    assert len(large.captured_queries) == len(small.captured_queries)
