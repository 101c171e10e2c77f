"""The paper route: consultations, observations and medicines entered afterwards keep the time
they really happened, show as back-entered with both times, and are audited with both."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from steadfast.appointments import services as appointments
from steadfast.appointments.models import AppointmentStatus
from steadfast.audit import services as audit
from steadfast.audit.models import AuditEvent
from steadfast.fhir.replica import REPLICATED
from steadfast.records import services
from steadfast.records.errors import InvalidEntry
from steadfast.records.models import Medication, MedicationIssue, Observation
from tests.factories import (
    GPFactory,
    PatientFactory,
    SlotFactory,
    force_login_verified,
    london,
)
from tests.fhir.helpers import FHIRClient
from tests.fhir.history import concept_here
from tests.records.entries import AMLODIPINE_5MG, concept

pytestmark = pytest.mark.django_db
NODE = "node surgery-back-office during downtime"


@pytest.fixture
def gp():
    return GPFactory()


@pytest.fixture
def patient(gp):
    return PatientFactory(practice=gp.practice)


@pytest.fixture
def yesterday_morning():
    """10 Nov 2026 09:12 in London (GMT, so 09:12 UTC): the clock is frozen on the 11th."""
    return london(timezone.localdate() - timedelta(days=1), 9, 12)


def url(patient, page=""):
    return f"/record/patients/{patient.pk}/{page}"


def audit_of(action, patient) -> AuditEvent:
    return AuditEvent.objects.filter(action=action, patient_id=patient.pk).latest("id")


# --- services ------------------------------------------------------------------------------------


def test_observation_from_paper_keeps_its_real_time_and_is_audited_with_both(
    gp, patient, yesterday_morning
):
    [bp] = services.record_observation(
        patient, gp, services.NewObservation("bp", "142", "88"), occurred_at=yesterday_morning
    )
    bp.refresh_from_db()
    assert bp.occurred_at == yesterday_morning
    assert timezone.now() - bp.recorded_at < timedelta(minutes=1)
    assert bp.retrospective is True
    event = audit_of("record_observation", patient)
    assert timezone.now() - event.at < timedelta(minutes=1)  # entered now...
    assert event.detail.endswith(" occurred 2026-11-10T09:12:00+00:00")  # ...happened then
    assert str(bp.pk) in event.detail


def test_an_entry_made_now_is_not_back_entered_and_its_audit_has_one_time(gp, patient):
    [pulse] = services.record_observation(patient, gp, services.NewObservation("pulse", "72"))
    assert pulse.retrospective is False
    assert "occurred" not in audit_of("record_observation", patient).detail


def test_a_time_in_the_future_is_refused_but_a_clock_a_little_ahead_is_now(gp, patient):
    with pytest.raises(InvalidEntry, match="When this happened must be in the past"):
        services.record_observation(
            patient,
            gp,
            services.NewObservation("pulse", "72"),
            occurred_at=timezone.now() + timedelta(minutes=5),
        )
    [pulse] = services.record_observation(
        patient,
        gp,
        services.NewObservation("pulse", "72"),
        occurred_at=timezone.now() + timedelta(seconds=30),
    )
    assert pulse.occurred_at <= pulse.recorded_at
    assert pulse.retrospective is False
    assert Observation.objects.filter(patient=patient).count() == 1


def test_a_time_before_the_patient_was_born_is_refused(gp, patient):
    with pytest.raises(InvalidEntry, match="date of birth, 24 Nov 1970"):
        services.record_observation(
            patient,
            gp,
            services.NewObservation("pulse", "72"),
            occurred_at=london(patient.date_of_birth - timedelta(days=1), 12),
        )
    assert not Observation.objects.filter(patient=patient).exists()


def test_a_time_without_a_time_zone_is_refused(gp, patient, yesterday_morning):
    with pytest.raises(InvalidEntry, match="time zone"):
        services.record_observation(
            patient,
            gp,
            services.NewObservation("pulse", "72"),
            occurred_at=timezone.make_naive(yesterday_morning),
        )


def test_consultation_from_paper_dates_its_entries_and_its_appointment_then(
    gp, patient, yesterday_morning
):
    slot = SlotFactory(
        clinician=gp, start=yesterday_morning, end=yesterday_morning + timedelta(minutes=10)
    )
    with_slot_in_past = appointments.book_appointment(
        slot.pk, patient, gp, occurred_at=yesterday_morning - timedelta(days=2)
    )
    consultation = services.save_consultation(
        patient,
        gp,
        services.ConsultationNote(
            "face_to_face",
            history="Seen during the outage; notes on paper.",
            observations=[services.NewObservation("bp", "150", "95")],
            medications=[
                services.NewMedication(
                    concept(AMLODIPINE_5MG), "repeat", "One daily", 28, issues_allowed=6
                )
            ],
        ),
        appointment=with_slot_in_past,
        occurred_at=yesterday_morning,
    )
    medicine = Medication.objects.get(consultation=consultation)
    entries = [
        consultation,
        Observation.objects.get(consultation=consultation),
        medicine,
        MedicationIssue.objects.get(medication=medicine),
    ]
    assert [(e.occurred_at, e.retrospective) for e in entries] == [(yesterday_morning, True)] * 4
    events = with_slot_in_past.events.order_by("occurred_at", "recorded_at")
    finished = events.get(to_status=AppointmentStatus.FINISHED)
    assert (finished.occurred_at, finished.back_entered) == (yesterday_morning, True)
    assert audit_of("record_consultation", patient).detail.endswith(
        "occurred 2026-11-10T09:12:00+00:00"
    )


def test_repeat_issued_on_paper_keeps_its_time(gp, patient, yesterday_morning):
    medicine = services.prescribe(
        patient,
        gp,
        services.NewMedication(
            concept(AMLODIPINE_5MG), "repeat", "One daily", 28, issues_allowed=6
        ),
        occurred_at=yesterday_morning - timedelta(days=20),
    )
    issue = services.issue_repeat(medicine, gp, occurred_at=yesterday_morning)
    assert (issue.number, issue.occurred_at, issue.retrospective) == (2, yesterday_morning, True)
    assert audit_of("issue_repeat", patient).detail.endswith("occurred 2026-11-10T09:12:00+00:00")


def test_entry_made_on_a_node_says_so_on_the_record_and_in_the_audit(
    client, gp, patient, yesterday_morning
):
    [pulse] = services.record_observation(
        patient,
        gp,
        services.NewObservation("pulse", "88"),
        occurred_at=yesterday_morning,
        entered_via=NODE,
    )
    assert pulse.entered_via == NODE
    event = audit_of("record_observation", patient)
    assert event.user_id == gp.pk  # the real author
    assert event.detail.endswith(f"occurred 2026-11-10T09:12:00+00:00 via {NODE}")
    force_login_verified(client, gp)
    journal = client.get(url(patient, "journal/")).content.decode()
    assert f"via {NODE}" in journal


def test_a_long_audit_detail_gives_way_to_the_times(gp, patient, yesterday_morning):
    event = audit.record(
        "record_observation",
        user=gp,
        patient_id=patient.pk,
        detail="observation " + "x" * 300,
        occurred_at=yesterday_morning,
        entered_via=NODE,
    )
    assert len(event.detail) == 200
    assert event.detail.startswith("observation xxx")
    assert event.detail.endswith(f" occurred 2026-11-10T09:12:00+00:00 via {NODE}")


def test_node_feed_carries_where_an_entry_was_made(gp, patient, yesterday_morning):
    [pulse] = services.record_observation(
        patient,
        gp,
        services.NewObservation("pulse", "88"),
        occurred_at=yesterday_morning,
        entered_via=NODE,
    )
    kind = REPLICATED["Observation"]
    [row] = kind.rows(patient.practice_id, [pulse.pk])
    values = kind.read(kind.write(row, None)[0], concept_here)
    assert (values["entered_via"], values["retrospective"]) == (NODE, True)
    assert values["occurred_at"] == yesterday_morning


# --- pages ---------------------------------------------------------------------------------------


def paper_consultation(**when) -> dict:
    return {
        "consultation_type": "face_to_face",
        "history": "Written on paper during the outage.",
        "bp_systolic": "138",
        "bp_diastolic": "84",
        "save": "1",
        **when,
    }


YESTERDAY_0912 = {
    "happened_on[day]": "10",
    "happened_on[month]": "11",
    "happened_on[year]": "2026",
    "happened_at": "09:12",
}
ENTERED_NOW = re.compile(r"entered 11 Nov 2026 10:0\d")


def test_consultation_form_takes_when_it_happened_and_the_record_shows_both_times(
    client, gp, patient, yesterday_morning
):
    force_login_verified(client, gp)
    form = client.get(url(patient, "consultation/")).content.decode()
    assert "Entering this consultation afterwards, from paper?" in form
    assert 'name="happened_on[day]"' in form and 'name="happened_at"' in form
    response = client.post(url(patient, "consultation/"), paper_consultation(**YESTERDAY_0912))
    assert response.status_code == 302
    bp = Observation.objects.get(patient=patient, kind="bp")
    assert (bp.occurred_at, bp.retrospective) == (yesterday_morning, True)
    for page in ("journal/", "observations/", ""):
        shown = client.get(url(patient, page)).content.decode()
        assert "Back-entered" in shown, page
        assert "happened 10 Nov 2026 09:12" in shown, page
        assert ENTERED_NOW.search(shown), page


def test_consultation_made_now_is_not_shown_as_back_entered(client, gp, patient):
    force_login_verified(client, gp)
    assert client.post(url(patient, "consultation/"), paper_consultation()).status_code == 302
    assert "Back-entered" not in client.get(url(patient, "journal/")).content.decode()


@pytest.mark.parametrize(
    "when, message",
    [
        ({**YESTERDAY_0912, "happened_on[day]": "12"}, "When this happened must be in the past"),
        ({**YESTERDAY_0912, "happened_on[month]": "9"}, "within the last 30 days"),
        ({**YESTERDAY_0912, "happened_at": ""}, "Enter the time it happened, for example 09:12"),
        ({**YESTERDAY_0912, "happened_at": "25:10"}, "must be a real time, for example 09:12"),
        ({"happened_at": "09:12"}, "Enter the date it happened"),
        ({**YESTERDAY_0912, "happened_on[day]": "31"}, "must be a real date"),
    ],
)
def test_a_bad_time_is_a_message_at_the_field_and_nothing_is_saved(
    client, gp, patient, when, message
):
    force_login_verified(client, gp)
    response = client.post(url(patient, "consultation/"), paper_consultation(**when))
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert "There is a problem" in page
    assert re.search(r'href="#id_happened_(on-day|at)"', page)
    assert '<details class="nhsuk-details" id="when-it-happened" open>' in page
    assert not Observation.objects.filter(patient=patient).exists()


def test_medicine_issued_on_paper_is_prescribed_with_its_time(
    client, gp, patient, yesterday_morning
):
    force_login_verified(client, gp)
    response = client.post(
        url(patient, "medicines/prescribe/"),
        {
            "medicine_q": "amlodipine",
            "medicine_code": AMLODIPINE_5MG,
            "medicine_kind": "acute",
            "dose": "One daily",
            "quantity": "28",
            "quantity_unit": "tablet",
            "save": "1",
            **YESTERDAY_0912,
        },
    )
    assert response.status_code == 302
    medicine = Medication.objects.get(patient=patient)
    assert (medicine.occurred_at, medicine.retrospective) == (yesterday_morning, True)
    shown = client.get(url(patient, "medicines/")).content.decode()
    assert "Back-entered" in shown and "happened 10 Nov 2026 09:12" in shown


# --- FHIR ----------------------------------------------------------------------------------------


def test_fhir_gives_back_the_real_time_and_the_time_entered(client, gp, patient, yesterday_morning):
    consultation = services.save_consultation(
        patient,
        gp,
        services.ConsultationNote(
            "face_to_face",
            history="From paper.",
            observations=[services.NewObservation("pulse", "64")],
            medications=[services.NewMedication(concept(AMLODIPINE_5MG), "acute", "One daily", 28)],
        ),
        occurred_at=yesterday_morning,
    )
    pulse = Observation.objects.get(consultation=consultation)
    medicine = Medication.objects.get(consultation=consultation)
    api = FHIRClient(client, gp)
    real = "2026-11-10T09:12:00+00:00"
    assert api.get(f"Encounter/{consultation.pk}").fhir["period"]["start"] == real
    observation = api.get(f"Observation/{pulse.pk}").fhir
    assert observation["effectiveDateTime"] == real
    assert observation["issued"] == pulse.recorded_at.isoformat() != real
    assert api.get(f"MedicationRequest/{medicine.pk}").fhir["authoredOn"] == real
    statement = api.get(f"MedicationStatement/{medicine.pk}").fhir
    assert statement["effectivePeriod"]["start"] == real
    assert statement["dateAsserted"] == medicine.recorded_at.isoformat()
