"""`GET /fhir/_history`: every change to the practice, in order, for a node token only."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from steadfast.appointments import services as book
from steadfast.appointments.models import Slot
from steadfast.continuity.node.tokens import issue_node_token, revoke_node_token
from steadfast.fhir.auth import make_token
from steadfast.fhir.changes import NOT_SERVED, TRACKED
from steadfast.fhir.replica import LOCAL_FIELDS, REPLICATED
from steadfast.patients.models import Patient
from tests.factories import GPFactory, PatientFactory, SlotFactory
from tests.fhir.helpers import FHIRClient, outcome
from tests.fhir.history import Follower, concept_here, full_record, keys, urls

pytestmark = pytest.mark.django_db(transaction=True)  # gp, practice, receptionist: conftest.py


@pytest.fixture
def node_token(practice):
    return issue_node_token(practice, "surgery-back-office")[1]


@pytest.fixture
def follower(client, node_token):
    return Follower(client, node_token)


def test_every_writing_service_shows_in_the_history(follower, gp, receptionist, practice):
    follower.catch_up()
    patient = PatientFactory(practice=practice)
    rows = full_record(patient, gp, receptionist, SlotFactory(clinician=gp))
    seen = urls(follower.catch_up())
    assert f"Patient/{patient.pk}" in seen
    assert f"Appointment/{rows['appointment'].pk}" in seen
    assert f"Slot/{rows['appointment'].slot_id}" in seen
    assert f"Encounter/{rows['consultation'].pk}" in seen
    assert f"MedicationRequest/{rows['medication'].pk}" in seen
    assert f"AllergyIntolerance/{rows['allergy'].pk}" in seen
    assert f"Immunization/{rows['immunisation'].pk}" in seen
    assert f"DocumentReference/{rows['document'].pk}" in seen
    assert f"AllergyIntolerance/{rows['no_known_allergies'].pk}" in seen
    assert f"Flag/{rows['flag'].pk}" in seen
    assert any(u.startswith("Condition/") for u in seen)
    assert any(u.startswith("Observation/") for u in seen)


def _assert_reads_back(model, values: dict, row, where) -> None:
    local = LOCAL_FIELDS.get(model, set()) | {"practice"}
    for field in model._meta.concrete_fields:
        if field.name not in local:
            assert values[field.attname] == getattr(row, field.attname), (where, field.name)


def test_each_type_reads_back_exactly_as_stored(follower, gp, receptionist, practice):
    patient = PatientFactory(practice=practice, usual_gp=gp, title="Mrs", address_line2="Flat 2")
    full_record(patient, gp, receptionist, SlotFactory(clinician=gp))
    entries = follower.catch_up()
    checked = set()
    for entry in entries:
        resource_type = entry["request"]["url"].split("/")[0]
        replicated = REPLICATED.get(resource_type)
        if replicated is None or replicated.model._meta.label == "accounts.User":
            continue  # a second resource of one row (Location, Schedule...), or staff
        kind = replicated.kind_for(entry["resource"])
        row = kind.model._base_manager.get(pk=kind.key(entry["resource"]["id"]))
        _assert_reads_back(kind.model, kind.read(entry["resource"], concept_here), row, kind)
        checked.add(kind.model)
        for carried in kind.carries:
            children = carried.read(entry["resource"], concept_here)
            stored = list(
                carried.model._base_manager.filter(**{carried.parent: row}).order_by(*carried.order)
            )
            assert [c["id"] for c in children] == [c.pk for c in stored], carried.url
            for values, child in zip(children, stored, strict=True):
                values[carried.parent_attname] = row.pk
                _assert_reads_back(carried.model, values, child, carried.url)
            checked |= {carried.model} if stored else set()
    replicated_models = {
        model
        for replicated in REPLICATED.values()
        for kind in replicated.kinds()
        for model in (kind.model, *(carried.model for carried in kind.carries))
    }
    assert checked == replicated_models - {get_user_model()}


def test_appointment_history_carries_its_status_events(follower, gp, receptionist, practice):
    slot = SlotFactory(clinician=gp)
    appointment = book.book_appointment(slot.pk, PatientFactory(practice=practice), receptionist)
    book.mark_arrived(appointment, receptionist)
    entries = follower.catch_up()
    resource = next(e["resource"] for e in entries if e["request"]["url"].startswith("Appoint"))
    from steadfast.fhir.replica import appointment_events

    events = appointment_events(resource, concept_here)
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        ("", "booked"),
        ("booked", "arrived"),
    ]


def test_a_follower_keeping_its_next_link_never_repeats_a_change(client, node_token, practice):
    follower = Follower(client, node_token, count=3)
    follower.catch_up()
    patients = [PatientFactory(practice=practice) for _ in range(7)]
    first = follower.page()
    rest = follower.catch_up()
    assert keys(first + rest) == [("POST", f"Patient/{p.pk}") for p in patients]
    assert follower.catch_up() == []


def test_a_change_after_reading_comes_again_as_an_update(follower, practice):
    patient = PatientFactory(practice=practice)
    follower.catch_up()
    Patient.objects.filter(pk=patient.pk).update(phone="0113 496 0000")
    assert keys(follower.catch_up()) == [("PUT", f"Patient/{patient.pk}")]


def test_a_deleted_row_comes_as_a_delete_without_a_resource(follower, gp):
    slot = SlotFactory(clinician=gp)
    follower.catch_up()
    Slot.objects.filter(pk=slot.pk).delete()
    entries = follower.catch_up()
    assert keys(entries) == [("DELETE", f"Slot/{slot.pk}")]
    assert "resource" not in entries[0]


def test_another_practices_changes_never_reach_the_feed(follower, practice):
    other = PatientFactory()
    other_staff = GPFactory(practice=other.practice)
    SlotFactory(clinician=other_staff)
    ours = PatientFactory(practice=practice)
    seen = urls(follower.catch_up())
    assert f"Patient/{ours.pk}" in seen
    assert not any(str(other.pk) in u or str(other.practice_id) in u for u in seen)
    assert f"Practitioner/{other_staff.pk}" not in seen


def test_a_revoked_node_token_is_refused_at_once(client, practice):
    token, text = issue_node_token(practice, "front-desk-pc")
    api = FHIRClient(client, token=text)
    assert api.get("_history").status_code == 200
    revoke_node_token(token)
    outcome(api.get("_history"), 401)


def test_a_tampered_node_token_is_refused(client, node_token):
    outcome(FHIRClient(client, token=node_token[:-2] + "xx").get("_history"), 401)


def test_staff_tokens_may_not_follow_and_node_tokens_may_do_nothing_else(
    client, gp, node_token, practice
):
    outcome(FHIRClient(client, token=make_token(gp)).get("_history"), 403)
    patient = PatientFactory(practice=practice)
    outcome(FHIRClient(client, token=node_token).get(f"Patient/{patient.pk}"), 403)


def test_a_cursor_of_another_practice_or_made_up_is_refused(client, follower, practice):
    follower.catch_up()
    other = issue_node_token(PatientFactory().practice, "elsewhere")[1]
    stranger = FHIRClient(client, token=other)
    outcome(stranger.get(follower.next), 400)
    outcome(stranger.get("_history?_cursor=12"), 400)
    outcome(stranger.get("_history?_count=0"), 400)


def test_every_table_of_practice_data_is_in_the_feed_or_named_as_not_served():
    from django.apps import apps

    tracked = {t.model for t in TRACKED}
    ours = [
        m._meta.label
        for m in apps.get_models(include_auto_created=True)
        if m._meta.label.split(".")[0] in {"patients", "appointments", "records", "practices"}
    ]
    assert set(ours) - tracked - NOT_SERVED == set()


def test_capture_triggers_are_on_every_tracked_table():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT event_object_table FROM information_schema.triggers")
        else:
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
        tables = {row[0] for row in cursor.fetchall()}
    assert {t.table for t in TRACKED} <= tables
