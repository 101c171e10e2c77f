"""Writing to the patient record: one transaction each, audited inside it.

Services take domain objects and the acting user, check the record's rules and raise a
DomainError the views show. Every entry keeps when it happened and when it was recorded.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from steadfast.accounts.access import require
from steadfast.appointments import services as appointments
from steadfast.appointments.models import Appointment, AppointmentStatus
from steadfast.audit.services import record
from steadfast.continuity.downtime.journal import journaled
from steadfast.entry_times import (
    EntryTimeError,
    check_occurred_at,
    clean_entered_via,
    is_back_entry,
    start_of_day,
)
from steadfast.errors import InvalidTransition
from steadfast.records.errors import AllergyWarning, InvalidEntry, StaleEdit
from steadfast.records.models import (
    TRANSFER_DEGRADED_DRUG_ALLERGY,
    Allergy,
    CodeSystem,
    Concept,
    ConceptUse,
    Consultation,
    ConsultationVersion,
    Document,
    Immunisation,
    Medication,
    MedicationIssue,
    MedicationKind,
    NoKnownAllergies,
    Observation,
    ObservationKind,
    PatientFlag,
    Problem,
    ProblemStatus,
    Significance,
)
from steadfast.records.observations import SMOKING_STATUS, TYPES, body_mass_index

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
FILE_SIGNATURES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png"}


@dataclass
class NewProblem:
    concept: Concept
    significance: str = Significance.MINOR
    onset: date | None = None
    status: str = ProblemStatus.ACTIVE


@dataclass
class NewObservation:
    kind: str
    value: Decimal | str | None = None
    value2: Decimal | str | None = None
    smoking: str = ""  # a key of SMOKING_STATUS, for kind "smoking"


@dataclass
class NewMedication:
    concept: Concept
    kind: str
    dose: str
    quantity: int
    quantity_unit: str = "tablet"
    issues_allowed: int | None = None
    review_date: date | None = None


@dataclass
class ConsultationNote:
    consultation_type: str
    history: str = ""
    examination: str = ""
    plan: str = ""
    problems: list[NewProblem] = field(default_factory=list)
    observations: list[NewObservation] = field(default_factory=list)
    medications: list[NewMedication] = field(default_factory=list)


def _stamp(
    patient,
    user,
    occurred_at: datetime | None,
    retrospective: bool | None,
    as_received: dict | None = None,
    entered_via: str = "",
) -> dict:
    """The columns every entry has. `as_received` is the resource another system sent, for an
    entry taken in from it: such history may lack what an entry made here must have.

    An entry given the time it happened (`occurred_at`, earlier than now) is back-entered:
    `retrospective`, unless the caller says otherwise. One made here cannot predate the
    patient's birth."""
    now = timezone.now()
    if occurred_at is None:
        occurred_at = now
    else:
        born = patient.date_of_birth
        try:
            occurred_at = check_occurred_at(
                occurred_at,
                now,
                not_before=start_of_day(born) if as_received is None else None,
                since=f"the patient's date of birth, {born.day} {born:%b %Y}",
            )
        except EntryTimeError as exc:
            raise InvalidEntry(str(exc)) from None
    if retrospective is None:
        retrospective = is_back_entry(occurred_at, now)
    return {
        "practice_id": patient.practice_id,
        "patient": patient,
        "occurred_at": occurred_at,
        "recorded_at": now,
        "recorded_by": user,
        "retrospective": retrospective,
        "entered_via": clean_entered_via(entered_via),
        "as_received": as_received,
    }


def _times(stamp: dict) -> dict:
    """What the audit entry of a back-entered entry adds: when it happened, and where made."""
    back_entered = stamp["retrospective"] or bool(stamp["entered_via"])
    return {
        "occurred_at": stamp["occurred_at"] if back_entered else None,
        "entered_via": stamp["entered_via"],
    }


def _require_use(concept: Concept, *uses: str) -> None:
    if concept.use not in uses:
        raise InvalidEntry(f"{concept.term} cannot be recorded here.")


# --- Consultations ---------------------------------------------------------------------------


@journaled("save_consultation")
def save_consultation(
    patient,
    clinician,
    note: ConsultationNote,
    *,
    appointment: Appointment | None = None,
    occurred_at: datetime | None = None,
    retrospective: bool | None = None,
    entered_via: str = "",
    allergy_confirmed: bool = False,
    override_reason: str = "",
) -> Consultation:
    """Save a consultation as a whole, with its coded entries; its appointment is finished.
    A medicine the patient has a recorded allergy to needs `allergy_confirmed`, and the
    prescriber's `override_reason` is kept on it (the journal shows both).
    A consultation back-entered (`occurred_at`) dates its entries, and its appointment's finish,
    at that time."""
    require(clinician, "record_consultation", patient)
    if note.medications:
        require(clinician, "prescribe", patient)
    if not (note.history.strip() or note.examination.strip() or note.plan.strip()):
        raise InvalidEntry("Write something in history, examination or plan.")
    if appointment is not None and appointment.patient_id != patient.pk:
        raise InvalidEntry("That appointment is for another patient.")
    stamp = _stamp(patient, clinician, occurred_at, retrospective, entered_via=entered_via)
    try:
        return _save_consultation(
            stamp, note, appointment, clinician, allergy_confirmed, override_reason
        )
    except IntegrityError:
        # Two clinicians saving for one appointment at once: the database lets one in.
        if (
            appointment is not None
            and Consultation.objects.filter(appointment=appointment).exists()
        ):
            raise InvalidEntry(
                "This appointment already has a consultation: open it and edit that instead."
            ) from None
        raise


def _save_consultation(
    stamp, note, appointment, clinician, allergy_confirmed, override_reason
) -> Consultation:
    with transaction.atomic():
        consultation = Consultation.objects.create(
            **stamp,
            appointment=appointment,
            consultation_type=note.consultation_type,
            history=note.history.strip(),
            examination=note.examination.strip(),
            plan=note.plan.strip(),
        )
        for p in note.problems:
            _add_problem(stamp, p, consultation)
        for o in note.observations:
            _record_observation(stamp, o, consultation)
        for m in note.medications:
            _prescribe(stamp, m, consultation, allergy_confirmed, override_reason)
        if appointment is not None:
            _finish(appointment, clinician, stamp)
        record(
            "record_consultation",
            user=clinician,
            patient_id=stamp["patient"].pk,
            detail=f"consultation {consultation.pk}",
            **_times(stamp),
        )
    return consultation


def _finish(appointment: Appointment, clinician, stamp: dict) -> None:
    status, changed_at = (
        Appointment.objects.filter(pk=appointment.pk)
        .values_list("status", "status_changed_at")
        .get()
    )
    when = {}
    if stamp["retrospective"] or stamp["entered_via"]:
        # Started and finished at the consultation's time, never before the last change.
        when = {
            "occurred_at": max(stamp["occurred_at"], changed_at),
            "entered_via": stamp["entered_via"],
        }
    if status in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED):
        appointments.start_appointment(appointment, clinician, **when)
        status = AppointmentStatus.IN_PROGRESS
    if status == AppointmentStatus.IN_PROGRESS:
        appointments.finish_appointment(appointment, clinician, **when)
    elif status != AppointmentStatus.FINISHED:
        raise InvalidTransition("A cancelled or did-not-attend appointment has no consultation.")


def edit_consultation(
    consultation: Consultation, editor, *, reason: str, expected_version: int, **text: str
) -> Consultation:
    """Change a saved consultation's text; the previous version is kept with who, when, why."""
    require(editor, "record_consultation", consultation.patient)
    reason = reason.strip()
    if not reason:
        raise InvalidEntry("Say why the consultation is being changed.")
    if not any(text.get(k, "").strip() for k in ("history", "examination", "plan")):
        raise InvalidEntry("Write something in history, examination or plan.")
    now = timezone.now()
    with transaction.atomic():
        current = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if current.version != expected_version:
            raise StaleEdit("Someone changed this consultation since you opened it; start again.")
        ConsultationVersion.objects.create(
            consultation=current,
            version=current.version,
            consultation_type=current.consultation_type,
            history=current.history,
            examination=current.examination,
            plan=current.plan,
            written_by_id=current.edited_by_id or current.recorded_by_id,
            written_at=current.edited_at or current.recorded_at,
            replaced_by=editor,
            replaced_at=now,
            reason=reason,
        )
        updated = Consultation.objects.filter(pk=current.pk, version=expected_version).update(
            consultation_type=text.get("consultation_type") or current.consultation_type,
            history=text.get("history", "").strip(),
            examination=text.get("examination", "").strip(),
            plan=text.get("plan", "").strip(),
            version=F("version") + 1,
            edited_by=editor,
            edited_at=now,
        )
        if updated != 1:
            raise StaleEdit("Someone changed this consultation since you opened it; start again.")
        record(
            "edit_consultation",
            user=editor,
            patient_id=current.patient_id,
            detail=f"consultation {current.pk} v{expected_version + 1}",
        )
    return Consultation.objects.get(pk=current.pk)


# --- Problems ----------------------------------------------------------------------------------


def _add_problem(stamp: dict, p: NewProblem, consultation=None) -> Problem:
    _require_use(p.concept, ConceptUse.PROBLEM, ConceptUse.FINDING)
    onset = p.onset
    if onset is None and stamp["as_received"] is None:
        onset = timezone.localdate(stamp["occurred_at"])
    problem = Problem.objects.create(
        **stamp,
        concept=p.concept,
        status=p.status,
        significance=p.significance,
        onset=onset,
        ended=onset if p.status == ProblemStatus.PAST else None,
    )
    if consultation is not None:
        problem.consultations.add(consultation)
    return problem


@journaled("add_problem")
def add_problem(
    patient, user, new: NewProblem, *, occurred_at=None, retrospective=None, as_received=None
) -> Problem:
    require(user, "record_consultation", patient)
    stamp = _stamp(patient, user, occurred_at, retrospective, as_received)
    with transaction.atomic():
        problem = _add_problem(stamp, new)
        record(
            "add_problem",
            user=user,
            patient_id=patient.pk,
            detail=f"problem {problem.pk}",
            **_times(stamp),
        )
    return problem


def end_problem(problem: Problem, user, ended: date) -> Problem:
    require(user, "record_consultation", problem.patient)
    if problem.onset is not None and ended < problem.onset:
        raise InvalidEntry("A problem cannot end before it began.")
    with transaction.atomic():
        Problem.objects.filter(pk=problem.pk).update(status=ProblemStatus.PAST, ended=ended)
        record(
            "end_problem", user=user, patient_id=problem.patient_id, detail=f"problem {problem.pk}"
        )
    problem.refresh_from_db()
    return problem


# --- Medicines ---------------------------------------------------------------------------------


def allergies_matching(patient_id, medicine: Concept) -> list[Allergy]:
    """Recorded allergies to the medicine's class (or to the medicine itself), and any
    transfer-degraded drug allergy: its drug is known only as text, so every prescription asks."""
    codes = {c for c in (medicine.allergy_class, medicine.code) if c}
    codes.add(TRANSFER_DEGRADED_DRUG_ALLERGY)
    return list(
        Allergy.objects.filter(patient_id=patient_id, substance__code__in=codes).select_related(
            "substance"
        )
    )


def _allergy_names(matches: list[Allergy]) -> str:
    return ", ".join(a.description for a in matches)


def allergy_warning_text(medicine: Concept, matches: list[Allergy]) -> str:
    """What the prescriber is told, as the medicine is picked and again if saved unconfirmed."""
    return f"{medicine.term}: this patient has a recorded allergy to {_allergy_names(matches)}."


def _prescribe(
    stamp: dict, m: NewMedication, consultation, allergy_confirmed: bool, override_reason: str = ""
) -> Medication:
    _require_use(m.concept, ConceptUse.MEDICINE)
    received = stamp["as_received"] is not None
    if (m.quantity is None and not received) or (m.quantity is not None and m.quantity <= 0):
        raise InvalidEntry("Give a quantity of at least 1.")
    if not m.dose.strip():
        raise InvalidEntry("Give the dose, e.g. 'One tablet twice a day'.")
    if m.kind == MedicationKind.REPEAT and not m.issues_allowed:
        raise InvalidEntry("Say how many issues this repeat allows.")
    override = ""
    if matches := allergies_matching(stamp["patient"].pk, m.concept):
        if not allergy_confirmed:
            raise AllergyWarning(allergy_warning_text(m.concept, matches), matches)
        override = f"Prescribed despite a recorded allergy to {_allergy_names(matches)}"
        if override_reason.strip():
            override += f": {override_reason.strip()}"
    medication = Medication.objects.create(
        **stamp,
        consultation=consultation,
        concept=m.concept,
        kind=m.kind,
        dose=m.dose.strip(),
        quantity=m.quantity,
        quantity_unit=m.quantity_unit,
        route=m.concept.route,
        issues_allowed=m.issues_allowed if m.kind == MedicationKind.REPEAT else None,
        issues_made=1,
        review_date=m.review_date,
        allergy_override=override[:800],
    )
    MedicationIssue.objects.create(
        **(stamp | {"as_received": None}), medication=medication, number=1, quantity=m.quantity
    )
    return medication


@journaled("prescribe")
def prescribe(
    patient,
    prescriber,
    new: NewMedication,
    *,
    allergy_confirmed: bool = False,
    override_reason: str = "",
    occurred_at=None,
    retrospective=None,
    as_received=None,
    entered_via: str = "",
) -> Medication:
    """Prescribe a medicine (its first issue included); warns on a recorded allergy class.
    `occurred_at`: one issued earlier (on paper, during downtime) keeps its real time."""
    require(prescriber, "prescribe", patient)
    stamp = _stamp(patient, prescriber, occurred_at, retrospective, as_received, entered_via)
    with transaction.atomic():
        medication = _prescribe(stamp, new, None, allergy_confirmed, override_reason)
        detail = f"medication {medication.pk}" + (
            " allergy overridden" if allergy_confirmed else ""
        )
        record("prescribe", user=prescriber, patient_id=patient.pk, detail=detail, **_times(stamp))
    return medication


def issue_repeat(
    medication: Medication, user, *, occurred_at: datetime | None = None, entered_via: str = ""
) -> MedicationIssue:
    """Issue a repeat again; refused when stopped or when no issues are left (review due).
    `occurred_at`: an issue made earlier (on paper, during downtime) keeps its real time."""
    require(user, "prescribe", medication.patient)
    if medication.quantity is None:
        raise InvalidEntry("This medicine was received without a quantity: prescribe it here.")
    stamp = _stamp(medication.patient, user, occurred_at, None, entered_via=entered_via)
    with transaction.atomic():
        claimed = Medication.objects.filter(
            Q(issues_made__lt=F("issues_allowed")),
            pk=medication.pk,
            kind=MedicationKind.REPEAT,
            stopped_at__isnull=True,
        ).update(issues_made=F("issues_made") + 1)
        if claimed != 1:
            current = Medication.objects.get(pk=medication.pk)
            if current.stopped_at is not None:
                raise InvalidEntry("This medicine has been stopped.")
            if current.kind != MedicationKind.REPEAT:
                raise InvalidEntry("Only a repeat medicine can be issued again.")
            raise InvalidEntry("All issues allowed have been made: review the medicine first.")
        medication.refresh_from_db()
        issue = MedicationIssue.objects.create(
            **stamp,
            medication=medication,
            number=medication.issues_made,
            quantity=medication.quantity,
        )
        record(
            "issue_repeat",
            user=user,
            patient_id=medication.patient_id,
            detail=f"issue {issue.pk}",
            **_times(stamp),
        )
    return issue


def stop_medication(medication: Medication, user, reason: str) -> Medication:
    require(user, "prescribe", medication.patient)
    reason = reason.strip()
    if not reason:
        raise InvalidEntry("Say why the medicine is stopped.")
    now = timezone.now()
    with transaction.atomic():
        stopped = Medication.objects.filter(pk=medication.pk, stopped_at__isnull=True).update(
            stopped_at=now, stopped_by=user, stop_reason=reason
        )
        if stopped != 1:
            raise InvalidEntry("This medicine has already been stopped.")
        record(
            "stop_medication",
            user=user,
            patient_id=medication.patient_id,
            detail=f"medication {medication.pk}",
        )
    medication.refresh_from_db()
    return medication


# --- Allergies ---------------------------------------------------------------------------------


@journaled("record_allergy")
def record_allergy(
    patient,
    user,
    substance: Concept,
    *,
    severity: str,
    certainty: str,
    reaction: Concept | None = None,
    reaction_text: str = "",
    note: str = "",
    occurred_at=None,
    retrospective=None,
    as_received=None,
) -> Allergy:
    require(user, "record_consultation", patient)
    _require_use(substance, ConceptUse.ALLERGEN)
    if reaction is not None:
        _require_use(reaction, ConceptUse.REACTION)
    stamp = _stamp(patient, user, occurred_at, retrospective, as_received)
    with transaction.atomic():
        allergy = Allergy.objects.create(
            **stamp,
            substance=substance,
            reaction=reaction,
            reaction_text="" if reaction is not None else reaction_text.strip()[:200],
            severity=severity,
            certainty=certainty,
            note=note.strip(),
        )
        record(
            "record_allergy",
            user=user,
            patient_id=patient.pk,
            detail=f"allergy {allergy.pk}",
            **_times(stamp),
        )
    return allergy


@journaled("record_no_known_allergies")
def record_no_known_allergies(
    patient, user, *, occurred_at=None, concept: Concept | None = None, as_received=None
) -> NoKnownAllergies:
    """The patient was asked and has no known allergies (or, with a concept, exactly what it
    says, e.g. no known drug allergy); refused when allergies are recorded."""
    require(user, "record_consultation", patient)
    if concept is not None:
        _require_use(concept, ConceptUse.NO_ALLERGY)
    stamp = _stamp(patient, user, occurred_at, None, as_received)
    with transaction.atomic():
        # A statement received as history stands beside the allergies sent with it: the banner
        # shows allergies first. One made here must not contradict a recorded allergy.
        if as_received is None and Allergy.objects.filter(patient=patient).exists():
            raise InvalidEntry("This patient has recorded allergies.")
        nka = NoKnownAllergies.objects.create(**stamp, concept=concept)
        record(
            "record_no_known_allergies", user=user, patient_id=patient.pk, detail=f"nka {nka.pk}"
        )
    return nka


# --- Observations ------------------------------------------------------------------------------


def _decimal(raw, label: str) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise InvalidEntry(f"{label}: enter a number, like 72 or 36.8.") from exc
    if not value.is_finite():
        raise InvalidEntry(f"{label}: enter a number, like 72 or 36.8.")
    return value


def _concept(code: str) -> Concept:
    try:
        return Concept.objects.get(system=CodeSystem.SNOMED, code=code)
    except Concept.DoesNotExist as exc:
        raise InvalidEntry(
            f"SNOMED CT {code} is not loaded; run steadfast load-terminology."
        ) from exc


def _record_observation(stamp: dict, o: NewObservation, consultation=None) -> list[Observation]:
    if o.kind == ObservationKind.SMOKING:
        if o.smoking not in SMOKING_STATUS:
            raise InvalidEntry("Choose a smoking status.")
        return [
            Observation.objects.create(
                **stamp,
                consultation=consultation,
                kind=o.kind,
                concept=_concept(SMOKING_STATUS[o.smoking]),
            )
        ]
    # A BMI is derived here from weight and height; one received is kept as it was recorded.
    bmi_as_recorded = o.kind == ObservationKind.BMI and stamp["as_received"] is not None
    if o.kind not in TYPES or (o.kind == ObservationKind.BMI and not bmi_as_recorded):
        raise InvalidEntry("Choose what was measured.")
    t = TYPES[o.kind]
    value = _decimal(o.value, t.label)
    value2 = _decimal(o.value2, "Diastolic") if o.kind == ObservationKind.BLOOD_PRESSURE else None
    if value is None or (o.kind == ObservationKind.BLOOD_PRESSURE and value2 is None):
        raise InvalidEntry(
            "Blood pressure needs both systolic and diastolic."
            if o.kind == ObservationKind.BLOOD_PRESSURE
            else f"{t.label}: enter a value."
        )
    for v in (value, value2):
        if v is not None and not t.lowest <= v <= t.highest:
            raise InvalidEntry(f"{t.label} of {v} {t.unit} is not possible; check the value.")
    if value2 is not None and value2 >= value:
        raise InvalidEntry("Systolic must be higher than diastolic.")
    made = [
        Observation.objects.create(
            **stamp,
            consultation=consultation,
            kind=o.kind,
            concept=_concept(t.code),
            value=value,
            value2=value2,
            unit=t.unit,
        )
    ]
    if o.kind in (ObservationKind.WEIGHT, ObservationKind.HEIGHT):
        made += _derive_bmi(stamp | {"as_received": None}, consultation)
    return made


def _derive_bmi(stamp: dict, consultation) -> list[Observation]:
    """BMI from the latest weight and height (height taken as an adult's, any date)."""
    latest = {}
    for kind in (ObservationKind.WEIGHT, ObservationKind.HEIGHT):
        latest[kind] = (
            Observation.objects.filter(patient=stamp["patient"], kind=kind)
            .order_by("-occurred_at", "-recorded_at")
            .values_list("value", flat=True)
            .first()
        )
    if latest[ObservationKind.WEIGHT] is None or latest[ObservationKind.HEIGHT] is None:
        return []
    bmi = body_mass_index(latest[ObservationKind.WEIGHT], latest[ObservationKind.HEIGHT])
    t = TYPES[ObservationKind.BMI]
    if not t.lowest <= bmi <= t.highest:
        return []
    return [
        Observation.objects.create(
            **stamp,
            consultation=consultation,
            kind=ObservationKind.BMI,
            concept=_concept(t.code),
            value=bmi,
            unit=t.unit,
            derived=True,
        )
    ]


@journaled("record_observation")
def record_observation(
    patient,
    user,
    new: NewObservation,
    *,
    occurred_at=None,
    retrospective=None,
    as_received=None,
    entered_via: str = "",
) -> list[Observation]:
    """Record a measurement; a weight or height also records the BMI derived from them.
    `occurred_at`: one taken earlier (on paper, during downtime) keeps its real time."""
    require(user, "record_consultation", patient)
    stamp = _stamp(patient, user, occurred_at, retrospective, as_received, entered_via)
    with transaction.atomic():
        made = _record_observation(stamp, new)
        record(
            "record_observation",
            user=user,
            patient_id=patient.pk,
            detail=" ".join(f"observation {o.pk}" for o in made),
            **_times(stamp),
        )
    return made


# --- Immunisations, documents, flags -----------------------------------------------------------


def record_immunisation(
    patient,
    user,
    vaccine: Concept,
    *,
    batch: str,
    dose_number: int = 1,
    occurred_at=None,
    retrospective=None,
    as_received=None,
) -> Immunisation:
    """Record a vaccination. One given here needs its batch; history received may lack it."""
    require(user, "record_consultation", patient)
    _require_use(vaccine, ConceptUse.VACCINATION)
    if not batch.strip() and as_received is None:
        raise InvalidEntry("Give the vaccine's batch number.")
    stamp = _stamp(patient, user, occurred_at, retrospective, as_received)
    with transaction.atomic():
        given = Immunisation.objects.create(
            **stamp, vaccine=vaccine, batch=batch.strip(), dose_number=dose_number
        )
        record(
            "record_immunisation",
            user=user,
            patient_id=patient.pk,
            detail=f"immunisation {given.pk}",
            **_times(stamp),
        )
    return given


def sniff_content_type(content: bytes) -> str | None:
    for signature, content_type in FILE_SIGNATURES.items():
        if content.startswith(signature):
            return content_type
    if content[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    return None


def attach_document(
    patient, user, *, title: str, kind: str, content: bytes, occurred_at=None
) -> Document:
    """Keep a letter or result file (PDF, PNG or JPEG) with its SHA-256."""
    require(user, "record_consultation", patient)
    if not title.strip():
        raise InvalidEntry("Give the document a title.")
    if not content:
        raise InvalidEntry("Choose a file to attach.")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise InvalidEntry("The file is larger than 20 MB.")
    content_type = sniff_content_type(content)
    if content_type is None:
        raise InvalidEntry("Attach a PDF, PNG or JPEG file.")
    stamp = _stamp(patient, user, occurred_at, None)
    with transaction.atomic():
        document = Document.objects.create(
            **stamp,
            title=title.strip(),
            kind=kind,
            content_type=content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
        )
        record(
            "attach_document", user=user, patient_id=patient.pk, detail=f"document {document.pk}"
        )
    return document


def add_flag(patient, user, concept: Concept, *, note: str = "") -> PatientFlag:
    require(user, "record_consultation", patient)
    _require_use(concept, ConceptUse.FLAG)
    stamp = _stamp(patient, user, None, False)
    with transaction.atomic():
        flag = PatientFlag.objects.create(**stamp, concept=concept, note=note.strip())
        record("add_flag", user=user, patient_id=patient.pk, detail=f"flag {flag.pk}")
    return flag
