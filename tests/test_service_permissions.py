"""Every service that writes, as every role: refused in the service itself (not only at the URL)
unless the activity table allows the role, and refused for another practice's patient and for
a restricted record without a care relationship or a break-glass.

The services are found by reading every `steadfast.<app>.services` module, so a new service
that is in neither WRITES nor NEEDS_NO_ROLE fails `test_every_service_is_in_the_matrix`; the
roles refused come from ACTIVITIES, so changing the activity table changes the expectations;
and a new activity must be placed too (`test_every_activity_is_placed`).
"""

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.utils import timezone

import steadfast
from steadfast.accounts import services as accounts
from steadfast.accounts.access import ACTIVITIES
from steadfast.accounts.models import Role
from steadfast.appointments import services as appointments
from steadfast.appointments.models import AppointmentStatus, CancelledBy
from steadfast.audit import services as audit
from steadfast.audit.models import Alert
from steadfast.continuity import services as continuity
from steadfast.errors import NotPermitted, RestrictedRecord
from steadfast.patients import services as patients
from steadfast.practices import services as rotas
from steadfast.records import services as records
from tests.factories import (
    GPFactory,
    PatientFactory,
    SessionTemplateFactory,
    SlotFactory,
    UserFactory,
)
from tests.records.entries import (
    AMLODIPINE_5MG,
    CARES_FOR_A_RELATIVE,
    ESSENTIAL_HYPERTENSION,
    INFLUENZA_VACCINATION,
    PDF,
    PENICILLIN,
    TYPE_2_DIABETES,
    concept,
)

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Write:
    """A service that writes: the activities it needs and how to call it as `actor`."""

    activities: tuple[str, ...]
    call: Callable[[SimpleNamespace, object], object]
    # "patient": checked for practice and restriction; "practice": for practice only.
    scope: str = "patient"

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset.intersection(*(ACTIVITIES[a] for a in self.activities))


def _note(*, medicine: bool = False) -> records.ConsultationNote:
    meds = [records.NewMedication(concept(AMLODIPINE_5MG), "acute", "One daily", 28)]
    return records.ConsultationNote(
        "face_to_face", history="Cough.", medications=meds if medicine else []
    )


def _medicine() -> records.NewMedication:
    return records.NewMedication(
        concept(AMLODIPINE_5MG), "repeat", "One daily", 28, issues_allowed=6
    )


A, P, R = "steadfast.appointments.services", "steadfast.patients.services", "steadfast.records"
WRITES: dict[str, Write] = {
    f"{A}.book_appointment": Write(
        ("book_appointments",), lambda w, u: appointments.book_appointment(w.free.pk, w.patient, u)
    ),
    f"{A}.cancel_appointment": Write(
        ("book_appointments",),
        lambda w, u: appointments.cancel_appointment(w.booked, CancelledBy.PATIENT, "Better", u),
    ),
    f"{A}.reschedule_appointment": Write(
        ("book_appointments",),
        lambda w, u: appointments.reschedule_appointment(w.booked, w.free.pk, u),
    ),
    f"{A}.amend_appointment": Write(
        ("book_appointments",),
        lambda w, u: appointments.amend_appointment(w.booked, u, reason="Cough", comment=""),
    ),
    f"{A}.change_status": Write(
        ("manage_arrivals",),
        lambda w, u: appointments.change_status(w.booked, AppointmentStatus.ARRIVED, u),
    ),
    f"{A}.mark_arrived": Write(
        ("manage_arrivals",), lambda w, u: appointments.mark_arrived(w.booked, u)
    ),
    f"{A}.start_appointment": Write(
        ("manage_arrivals",), lambda w, u: appointments.start_appointment(w.booked, u)
    ),
    f"{A}.finish_appointment": Write(
        ("manage_arrivals",), lambda w, u: appointments.finish_appointment(w.in_progress, u)
    ),
    f"{A}.mark_did_not_attend": Write(
        ("manage_arrivals",), lambda w, u: appointments.mark_did_not_attend(w.booked, u)
    ),
    f"{P}.register_patient": Write(
        ("register_patients",),
        lambda w, u: patients.register_patient(
            w.practice,
            {
                "given_name": "Ada",
                "family_name": "Nobody-Else",
                "date_of_birth": date(1990, 1, 2),
                "sex": "female",
            },
            u,
        ),
        scope="practice",
    ),
    f"{P}.mark_sensitive": Write(
        ("restrict_records",), lambda w, u: patients.mark_sensitive(w.patient, True, u)
    ),
    "steadfast.audit.services.break_glass": Write(
        ("break_glass",),
        lambda w, u: audit.break_glass(u, w.patient, "At the desk"),
        scope="practice",
    ),
    "steadfast.audit.services.acknowledge_alert": Write(
        ("view_audit",), lambda w, u: audit.acknowledge_alert(w.alert, u), scope="practice"
    ),
    f"{P}.update_patient_details": Write(
        ("register_patients",),
        lambda w, u: patients.update_patient_details(w.patient, {"phone": "0113 496 0000"}, u),
    ),
    f"{P}.record_deduction": Write(
        ("register_patients",),
        lambda w, u: patients.record_deduction(w.patient, u, on=date.today(), reason="Moved"),
    ),
    f"{P}.record_death": Write(
        ("register_patients",),
        lambda w, u: patients.record_death(w.patient, u, died_on=date.today()),
    ),
    "steadfast.accounts.services.add_staff": Write(
        ("manage_staff",),
        lambda w, u: accounts.add_staff(
            u, w.practice, username="newstarter", first_name="Ada", last_name="Byrne", role="gp"
        ),
        scope="practice",
    ),
    "steadfast.accounts.services.change_role": Write(
        ("manage_staff",), lambda w, u: accounts.change_role(u, w.member, "nurse"), scope="practice"
    ),
    "steadfast.accounts.services.set_staff_active": Write(
        ("manage_staff",),
        lambda w, u: accounts.set_staff_active(u, w.member, False),
        scope="practice",
    ),
    "steadfast.accounts.services.reset_second_factor": Write(
        ("manage_staff",), lambda w, u: accounts.reset_second_factor(u, w.member), scope="practice"
    ),
    "steadfast.practices.services.save_session": Write(
        ("manage_rotas",),
        lambda w, u: rotas.save_session(
            u,
            None,
            clinician=w.gp,
            weekday=2,
            start_time=time(9),
            end_time=time(10),
            slot_minutes=15,
            slot_type="routine",
            delivery_mode="telephone",
            national_category="general_routine",
        ),
        scope="practice",
    ),
    "steadfast.practices.services.end_session": Write(
        ("manage_rotas",), lambda w, u: rotas.end_session(u, w.session), scope="practice"
    ),
    "steadfast.continuity.services.set_downtime_passphrase": Write(
        ("set_downtime_passphrase",),
        lambda w, u: continuity.set_downtime_passphrase(w.practice, "kettle orchard lantern 7", u),
        scope="practice",
    ),
    f"{R}.services.save_consultation": Write(
        ("record_consultation",), lambda w, u: records.save_consultation(w.patient, u, _note())
    ),
    # A consultation that prescribes needs both: an HCA may record one, not prescribe in it.
    f"{R}.services.save_consultation[with a medicine]": Write(
        ("record_consultation", "prescribe"),
        lambda w, u: records.save_consultation(w.patient, u, _note(medicine=True)),
    ),
    f"{R}.services.edit_consultation": Write(
        ("record_consultation",),
        lambda w, u: records.edit_consultation(
            w.consultation,
            u,
            reason="Typo",
            expected_version=w.consultation.version,
            history="Dry cough.",
        ),
    ),
    f"{R}.services.add_problem": Write(
        ("record_consultation",),
        lambda w, u: records.add_problem(
            w.patient, u, records.NewProblem(concept(TYPE_2_DIABETES))
        ),
    ),
    f"{R}.services.end_problem": Write(
        ("record_consultation",),
        lambda w, u: records.end_problem(w.problem, u, timezone.localdate()),
    ),
    f"{R}.services.prescribe": Write(
        ("prescribe",), lambda w, u: records.prescribe(w.patient, u, _medicine())
    ),
    f"{R}.services.issue_repeat": Write(
        ("prescribe",), lambda w, u: records.issue_repeat(w.medication, u)
    ),
    f"{R}.services.stop_medication": Write(
        ("prescribe",), lambda w, u: records.stop_medication(w.medication, u, "Side effects")
    ),
    f"{R}.services.record_allergy": Write(
        ("record_consultation",),
        lambda w, u: records.record_allergy(
            w.patient, u, concept(PENICILLIN), severity="severe", certainty="confirmed"
        ),
    ),
    f"{R}.services.record_no_known_allergies": Write(
        ("record_consultation",), lambda w, u: records.record_no_known_allergies(w.patient, u)
    ),
    f"{R}.services.record_observation": Write(
        ("record_consultation",),
        lambda w, u: records.record_observation(w.patient, u, records.NewObservation("pulse", 72)),
    ),
    f"{R}.services.record_immunisation": Write(
        ("record_consultation",),
        lambda w, u: records.record_immunisation(
            w.patient, u, concept(INFLUENZA_VACCINATION), batch="FLU-1"
        ),
    ),
    f"{R}.services.attach_document": Write(
        ("record_consultation",),
        lambda w, u: records.attach_document(
            w.patient, u, title="Letter", kind="letter", content=PDF
        ),
    ),
    f"{R}.services.add_flag": Write(
        ("record_consultation",),
        lambda w, u: records.add_flag(w.patient, u, concept(CARES_FOR_A_RELATIVE)),
    ),
}

# Public functions of services modules that need no role, and why.
NEEDS_NO_ROLE = {
    "steadfast.audit.services.record": "the audit trail itself: refusals are written with it",
    "steadfast.audit.services.head_lock_sql": (
        "SQL text for a writer's own statement; it writes nothing (the booking using it is checked)"
    ),
    "steadfast.audit.services.checkpoint_chains": (
        "no patient data: anchors the audit chains outside the database, run by the scheduler"
        " and `steadfast audit-checkpoint`, never from a page or the API"
    ),
    "steadfast.accounts.services.sign_out_everywhere": "a person's own sessions",
    "steadfast.accounts.services.authenticator_to_set_up": "a person's own second factor",
    "steadfast.accounts.services.check_code": "a person's own second factor",
    "steadfast.accounts.services.confirm_authenticator": "a person's own second factor",
    "steadfast.appointments.services.generate_slots": (
        "no patient data: slots from the rota (which manage_rotas governs), run by the demo"
        " loader and the scheduler, never from a page or the API"
    ),
    "steadfast.appointments.services.england_bank_holidays": "reads only",
    "steadfast.records.services.allergies_matching": "reads only",
    "steadfast.records.services.allergy_warning_text": "reads only",
    "steadfast.practices.services.slot_times": "reads only: the preview of a session's slots",
    "steadfast.records.services.sniff_content_type": "reads only",
    # Downtime packs: built and kept by the worker and the `continuity` command as the system
    # (every pack on the audit trail); downloads and opens are audit entries of a read the
    # page allowed (download_downtime_pack).
    **{
        f"steadfast.continuity.services.{name}": "the downtime pack's system work or its audit"
        for name in (
            "set_demo_downtime_passphrase",  # refuses any practice but the demo one
            "given_passphrase",
            "check_downtime_passphrase",
            "build_pack",
            "write_pack_pdf",
            "write_atomically",
            "pack_folder",
            "stored_packs",
            "latest_pack",
            "store_pack",
            "record_download",
            "record_opens",
        )
    },
}
# Activities no service writes for: reading, or work that has no service yet.
READ_ONLY_ACTIVITIES = {
    "view_appointment_book",
    "view_own_list",
    "view_demographics",
    "view_clinical_record",
    "view_record_audit",
    "run_reports",
    "export",
    "download_downtime_pack",  # a read; its audit is record_download above
}


# Activities whose checks live outside the steadfast.<app>.services modules, and where.
CHECKED_ELSEWHERE = {
    "manage_practice_nodes": "revoke_node_token in steadfast/continuity/node/tokens.py"
    " (tests/continuity/test_node_tokens.py)",
    "follow_practice": "a practice node's token reading the history and staff list"
    " (tests/fhir/test_history.py, tests/continuity/test_node_tokens.py)",
    "reconcile_downtime": "a practice node's token sending its journal to $reconcile-downtime"
    " (tests/continuity/test_reconcile.py); each entry is then checked as its author",
    "start_downtime_working": "start_downtime/stop_downtime in steadfast/continuity/downtime/"
    "services.py (tests/continuity/test_reconcile.py)",
    "resolve_downtime_entries": "the worklist's actions in steadfast/continuity/downtime/"
    "services.py (tests/continuity/test_reconcile.py)",
}


def _service_functions() -> set[str]:
    found = set()
    for app in pkgutil.iter_modules(steadfast.__path__):
        try:
            module = importlib.import_module(f"steadfast.{app.name}.services")
        except ModuleNotFoundError:
            continue
        for name, value in vars(module).items():
            if (
                inspect.isfunction(value)
                and not name.startswith("_")
                and value.__module__ == module.__name__
            ):
                found.add(f"{module.__name__}.{name}")
    return found


def test_every_service_is_in_the_matrix():
    in_matrix = {name.split("[")[0] for name in WRITES}
    assert _service_functions() == in_matrix | set(NEEDS_NO_ROLE)
    assert not in_matrix & set(NEEDS_NO_ROLE)


def test_every_activity_is_placed():
    used = {a for w in WRITES.values() for a in w.activities}
    assert used | READ_ONLY_ACTIVITIES | set(CHECKED_ELSEWHERE) == set(ACTIVITIES)
    assert not used & (READ_ONLY_ACTIVITIES | set(CHECKED_ELSEWHERE))


@pytest.fixture
def world():
    gp = GPFactory()
    practice = gp.practice
    patient = PatientFactory(practice=practice)
    consultation = records.save_consultation(patient, gp, _note())
    in_progress = appointments.book_appointment(SlotFactory(clinician=gp).pk, patient, gp)
    appointments.start_appointment(in_progress, gp)
    return SimpleNamespace(
        practice=practice,
        gp=gp,
        member=UserFactory(practice=practice, role=Role.RECEPTIONIST),
        session=SessionTemplateFactory(clinician=gp),
        patient=patient,
        free=SlotFactory(clinician=gp),
        booked=appointments.book_appointment(SlotFactory(clinician=gp).pk, patient, gp),
        in_progress=in_progress,
        consultation=consultation,
        problem=records.add_problem(
            patient, gp, records.NewProblem(concept(ESSENTIAL_HYPERTENSION))
        ),
        medication=records.prescribe(patient, gp, _medicine()),
        alert=Alert.objects.create(practice=practice, patient=patient, user=gp, reason="test"),
    )


def _rows() -> dict[str, int]:
    """How many rows each of our tables holds: a refused call must change none of them."""
    return {
        m._meta.label: m._base_manager.count()
        for m in apps.get_models()
        if m.__module__.startswith("steadfast.")
    }


CASES = [(name, role) for name in WRITES for role in Role]


@pytest.mark.parametrize(("name", "role"), CASES, ids=[f"{n.split('.')[-1]}-{r}" for n, r in CASES])
def test_each_role_is_refused_by_the_service_unless_the_activity_table_allows_it(world, name, role):
    write = WRITES[name]
    actor = UserFactory(practice=world.practice, role=role)
    if role in write.allowed:
        write.call(world, actor)
        return
    before = _rows()
    with pytest.raises(NotPermitted, match="Your role may not"):
        write.call(world, actor)
    assert _rows() == before


@pytest.mark.parametrize("name", list(WRITES))
def test_another_practices_staff_are_refused_by_the_service(world, name):
    write = WRITES[name]
    stranger = UserFactory(role=sorted(write.allowed)[0])  # a practice of their own
    before = _rows()
    with pytest.raises(NotPermitted):
        write.call(world, stranger)
    assert _rows() == before


RESTRICTABLE = [name for name, w in WRITES.items() if w.scope == "patient"]


@pytest.mark.parametrize("name", RESTRICTABLE)
def test_a_restricted_record_is_written_only_after_break_glass(world, name):
    write = WRITES[name]
    actor = UserFactory(practice=world.practice, role=sorted(write.allowed)[0])
    world.patient.is_sensitive = True
    world.patient.save()
    before = _rows()
    with pytest.raises(RestrictedRecord):
        write.call(world, actor)
    assert _rows() == before
    if actor.role in ACTIVITIES["break_glass"]:
        audit.break_glass(actor, world.patient, "Patient at the desk")
        write.call(world, actor)


def test_the_passphrase_set_without_a_manager_is_only_for_the_demo_practice(world):
    with pytest.raises(ValueError):
        continuity.set_demo_downtime_passphrase(world.practice, "kettle orchard lantern 7")
