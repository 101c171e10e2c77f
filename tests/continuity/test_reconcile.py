"""Downtime entries made on a node come back to the central server through the same services:
merged where they still fit, on the worklist with a plain reason where they do not; sending them
again changes nothing."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db.models import F
from django.test import override_settings
from django.urls import reverse
from django_scopes import scopes_disabled

from steadfast.accounts.models import Role
from steadfast.appointments import services as book
from steadfast.appointments.models import Appointment, AppointmentStatus
from steadfast.audit.models import AuditEvent
from steadfast.continuity.downtime import services
from steadfast.continuity.downtime.models import EntryStatus, ReceivedEntry
from steadfast.continuity.downtime.replay import describe
from steadfast.continuity.node.tokens import issue_node_token
from steadfast.errors import DomainError, NotPermitted
from steadfast.patients import services as patients
from steadfast.patients.models import Patient, RegistrationStatus
from steadfast.records import services as records
from steadfast.records.models import Consultation, Medication, Observation
from tests.continuity.downtime import NodeDowntime, codes, drop_node_rows, send
from tests.factories import (
    GPFactory,
    PatientFactory,
    SlotFactory,
    UserFactory,
    force_login_verified,
)
from tests.records.entries import AMOXICILLIN_500MG, concept

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice_staff(db):
    gp = GPFactory()
    practice = gp.practice
    return {
        "gp": gp,
        "practice": practice,
        "reception": UserFactory(practice=practice, role=Role.RECEPTIONIST),
        "manager": UserFactory(practice=practice, role=Role.PRACTICE_MANAGER),
        "token": issue_node_token(practice, "back-office")[1],
    }


def _details(**overrides) -> dict:
    details = {
        "given_name": "Tamsin",
        "family_name": "Pengelly",
        "date_of_birth": __import__("datetime").date(1988, 3, 14),
        "sex": "female",
        "address_line1": "4 Quay Street",
        "postcode": "TR1 2HE",
    }
    return details | overrides


def test_a_morning_of_downtime_merges_and_a_clash_goes_to_the_worklist(client, practice_staff):
    gp, reception, manager = (
        practice_staff["gp"],
        practice_staff["reception"],
        practice_staff["manager"],
    )
    patients_ = [PatientFactory(practice=gp.practice) for _ in range(3)]
    slots = [SlotFactory(clinician=gp) for _ in range(3)]
    with scopes_disabled(), NodeDowntime() as node:
        booked = [
            book.book_appointment(slot.pk, patient, reception, reason="Downtime")
            for slot, patient in zip(slots, patients_, strict=True)
        ]
        book.mark_arrived(booked[0], reception)
        book.mark_arrived(booked[1], reception)
        records.save_consultation(
            patients_[0],
            gp,
            records.ConsultationNote(
                "face_to_face",
                history="Sore throat three days.",
                observations=[records.NewObservation("pulse", "88")],
                medications=[
                    records.NewMedication(
                        concept(AMOXICILLIN_500MG), "acute", "One three times a day", 15
                    )
                ],
            ),
            appointment=booked[0],
        )
        temporary = patients.register_patient(gp.practice, _details(), reception)
    entries = node.entries
    assert [e.action for e in entries] == [
        "book_appointment",
        "book_appointment",
        "book_appointment",
        "change_status",
        "change_status",
        "save_consultation",
        "register_patient",
    ]
    assert temporary.registration_status == RegistrationStatus.TEMPORARY
    assert entries[5].author == gp and entries[0].author == reception
    assert entries[3].bases == {"appointment": 1}

    with scopes_disabled():
        drop_node_rows(node.session)
        assert not Appointment.objects.filter(pk__in=[a.pk for a in booked]).exists()
        assert not Patient.objects.filter(pk=temporary.pk).exists()
        # Meanwhile on the main system: the third slot went to someone else.
        other = PatientFactory(practice=gp.practice)
        book.book_appointment(slots[2].pk, other, manager)
        answers = send(client, practice_staff["token"], entries)
    assert codes(answers) == [201, 201, 409, 201, 201, 201, 201]
    assert "booked on the main system meanwhile" in answers[2]["outcome"]["issue"][0]["diagnostics"]
    with scopes_disabled():
        merged = Appointment.objects.filter(idempotency_key__startswith="urn:steadfast:downtime|")
        assert merged.count() == 2
        first = merged.get(slot=slots[0])
        assert first.status == AppointmentStatus.FINISHED  # arrived, then seen
        consultation = Consultation.objects.get(patient=patients_[0])
        assert consultation.recorded_by == gp
        assert Observation.objects.filter(consultation=consultation, value=Decimal("88")).exists()
        assert Medication.objects.filter(consultation=consultation).exists()
        assert Patient.objects.filter(
            given_name="Tamsin", registration_status=RegistrationStatus.TEMPORARY
        ).exists()
        downtime_audit = AuditEvent.objects.filter(source="node back-office (downtime)")
        assert downtime_audit.filter(user_id=gp.pk, action="record_consultation").exists()
        assert downtime_audit.filter(user_id=reception.pk, action="appointment_booked").exists()

        clash = ReceivedEntry.objects.get(status=EntryStatus.CONFLICT)
        assert clash.conflict == "slot_taken"
        # The worklist's action: the patient is booked into another slot.
        elsewhere = SlotFactory(clinician=gp)
        services.book_elsewhere(clash, elsewhere.pk, manager)
        clash.refresh_from_db()
        assert clash.status == EntryStatus.RESOLVED
        assert Appointment.objects.get(slot=elsewhere).patient == patients_[2]

        before = (
            Appointment.objects.count(),
            AuditEvent.objects.count(),
            Consultation.objects.count(),
        )
        again = send(client, practice_staff["token"], entries)
        after = (
            Appointment.objects.count(),
            AuditEvent.objects.count(),
            Consultation.objects.count(),
        )
    assert codes(again) == [200] * 7
    assert before == after


def test_a_change_on_the_main_system_meanwhile_is_a_version_conflict(client, practice_staff):
    gp, reception, manager = (
        practice_staff["gp"],
        practice_staff["reception"],
        practice_staff["manager"],
    )
    with scopes_disabled():
        appointment = book.book_appointment(
            SlotFactory(clinician=gp).pk, PatientFactory(practice=gp.practice), reception
        )
        with NodeDowntime() as node:
            book.mark_arrived(appointment, reception)
        drop_node_rows(node.session)
        # As the central server still has it (the node's arrival is only in its journal).
        Appointment.objects.filter(pk=appointment.pk).update(
            status=AppointmentStatus.BOOKED, version=1, status_changed_at=F("booked_at")
        )
        book.amend_appointment(appointment, manager, reason="Asthma review", comment="")
        answers = send(client, practice_staff["token"], node.entries)
        assert codes(answers) == [412]
        entry = ReceivedEntry.objects.get()
        assert "changed on the main system meanwhile" in entry.reason
        services.accept_as_is(entry, manager)
        entry.refresh_from_db()
        assert entry.status == EntryStatus.RESOLVED
        assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.ARRIVED


def test_a_temporary_patient_who_may_be_registered_waits_with_what_depends_on_them(
    client, practice_staff
):
    gp, reception, manager = (
        practice_staff["gp"],
        practice_staff["reception"],
        practice_staff["manager"],
    )
    registered = PatientFactory(
        practice=gp.practice,
        given_name="Tamsin",
        family_name="Pengelly",
        date_of_birth=_details()["date_of_birth"],
    )
    slot = SlotFactory(clinician=gp)
    with scopes_disabled():
        with NodeDowntime() as node:
            temporary = patients.register_patient(
                gp.practice, _details(), reception, confirmed_not_duplicate=True
            )
            book.book_appointment(slot.pk, temporary, reception)
        drop_node_rows(node.session)
        assert codes(send(client, practice_staff["token"], node.entries)) == [409, 409]
        registration, booking = ReceivedEntry.objects.order_by("seq")
        assert registration.conflict == "may_match"
        assert booking.conflict == "depends"
        services.link_patient(registration, registered, manager)
        services.accept_as_is(booking, manager)
        booking.refresh_from_db()
        assert booking.status == EntryStatus.RESOLVED
        assert Appointment.objects.get(slot=slot).patient == registered
        assert not Patient.objects.filter(registration_status=RegistrationStatus.TEMPORARY).exists()


def booked_in_downtime_then_deducted(client, practice_staff) -> tuple[list[dict], ReceivedEntry]:
    """Reception books a patient on the node; meanwhile the main system deducts them."""
    gp, reception = practice_staff["gp"], practice_staff["reception"]
    patient = PatientFactory(practice=gp.practice)
    with scopes_disabled():
        with NodeDowntime() as node:
            book.book_appointment(SlotFactory(clinician=gp).pk, patient, reception)
        drop_node_rows(node.session)
        Patient.objects.filter(pk=patient.pk).update(
            registration_status=RegistrationStatus.DEDUCTED
        )
        answers = send(client, practice_staff["token"], node.entries)
        return answers, ReceivedEntry.objects.get()


def test_a_patient_deducted_meanwhile_is_a_conflict_and_set_aside_keeps_it(client, practice_staff):
    manager = practice_staff["manager"]
    answers, entry = booked_in_downtime_then_deducted(client, practice_staff)
    assert codes(answers) == [409]
    assert "was deducted" in entry.reason
    with scopes_disabled():
        with pytest.raises(DomainError, match="cannot be accepted"):
            services.accept_as_is(entry, manager)
        services.set_aside(entry, "Moved away; told by phone", manager)
        entry.refresh_from_db()
        assert entry.status == EntryStatus.SET_ASIDE
        assert "Moved away" in entry.resolution


def test_clinical_entries_are_for_clinicians_and_bookings_for_managers(client, practice_staff):
    gp, manager = practice_staff["gp"], practice_staff["manager"]
    patient = PatientFactory(practice=gp.practice)
    with scopes_disabled():
        with NodeDowntime() as node:
            records.record_observation(patient, gp, records.NewObservation("pulse", "70"))
        drop_node_rows(node.session)
        Patient.objects.filter(pk=patient.pk).update(
            registration_status=RegistrationStatus.DECEASED
        )
        send(client, practice_staff["token"], node.entries)
        entry = ReceivedEntry.objects.get()
    assert entry.clinical and "died" in entry.reason
    with pytest.raises(NotPermitted, match="clinician"):
        services.set_aside(entry, "n/a", manager)


def test_only_a_node_token_may_send_entries(client, practice_staff):
    from steadfast.fhir.auth import make_token

    response = client.post(
        "/fhir/$reconcile-downtime",
        data='{"resourceType": "Bundle", "type": "batch", "entry": []}',
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {make_token(practice_staff['manager'])}",
    )
    assert response.status_code == 403


def test_a_node_in_downtime_takes_bookings_and_says_so_on_every_page(client, practice_staff):
    from tests.factories import force_login_verified

    gp, reception = practice_staff["gp"], practice_staff["reception"]
    slot = SlotFactory(clinician=gp)
    patient = PatientFactory(practice=gp.practice)
    force_login_verified(client, reception)
    with override_settings(NODE_MODE=True):
        refused = client.post(f"/appointments/slots/{slot.pk}/book/", {"patient": str(patient.pk)})
        assert refused.status_code == 403
        services.start_downtime()
        page = client.get("/appointments/")
        assert "Downtime working since" in page.content.decode()
        assert "entries will be sent to the main system when it is back" in page.content.decode()
        client.post(f"/appointments/slots/{slot.pk}/book/", {"patient": str(patient.pk)})
        services.stop_downtime()
    with scopes_disabled():
        assert Appointment.objects.filter(slot=slot).exists()
        from steadfast.continuity.downtime.models import JournalEntry

        assert JournalEntry.objects.filter(action="book_appointment", author=reception).exists()


def test_the_menu_leads_to_entries_waiting_for_a_person_until_none_are_left(client, practice_staff):
    gp, reception, manager = (
        practice_staff["gp"],
        practice_staff["reception"],
        practice_staff["manager"],
    )
    _, entry = booked_in_downtime_then_deducted(client, practice_staff)
    link = f'href="{reverse("downtime:worklist")}"'

    force_login_verified(client, manager)
    assert link in client.get(reverse("appointments:day")).text
    assert "Downtime entries (1)" in client.get(reverse("appointments:day")).text
    force_login_verified(client, gp)  # a booking's entry is the managers' to resolve
    assert link not in client.get(reverse("appointments:day")).text
    force_login_verified(client, reception)
    assert link not in client.get(reverse("appointments:day")).text

    with scopes_disabled():
        services.set_aside(entry, "Moved away; told by phone", manager)
    force_login_verified(client, manager)
    assert link not in client.get(reverse("appointments:day")).text


def test_an_entry_reads_with_its_date_as_people_in_the_uk_write_it():
    entry = ReceivedEntry(
        action="book_appointment",
        occurred_at=datetime(2026, 11, 5, 9, 12, tzinfo=UTC),
        node_name="back-office",
    )
    assert "5 Nov 2026 09:12 on node back-office" in describe(entry)
    assert "05 Nov" not in describe(entry)
