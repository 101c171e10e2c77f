"""Writes to the patient register: registration, corrected details (with their history),
restriction, and the end of a registration (deduction or death)."""

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from steadfast.accounts.access import require
from steadfast.appointments import services as appointments
from steadfast.appointments.models import Appointment, AppointmentStatus, CancelledBy
from steadfast.audit import services as audit
from steadfast.continuity.downtime.journal import journaled
from steadfast.errors import DomainError, DuplicateNHSNumber, PossibleDuplicatePatient
from steadfast.patients.models import DetailsChange, Patient, RegistrationStatus
from steadfast.patients.queries import possible_duplicates
from steadfast.practices.models import Practice

NHS_NUMBER_TAKEN = "A patient with this NHS number is already registered at this practice."


@journaled("register_patient")
def register_patient(
    practice: Practice, details: dict, registered_by, *, confirmed_not_duplicate: bool = False
) -> Patient:
    """Register a patient. An NHS number already on the register is refused outright; a
    same-name-and-date-of-birth match needs the registering person to confirm it is not them."""
    require(registered_by, "register_patients", practice_id=practice.pk)
    patient = Patient(practice=practice, **details)
    patient.registered_on = details.get("registered_on") or timezone.localdate()
    if not confirmed_not_duplicate:
        matches = possible_duplicates(
            practice, patient.given_name, patient.family_name, patient.date_of_birth
        )
        if matches:
            raise PossibleDuplicatePatient(
                "A patient with the same name and date of birth is already registered.", matches
            )
    try:
        with transaction.atomic():
            patient.save()
            audit.record("register_patient", user=registered_by, patient_id=patient.pk)
    except IntegrityError as exc:
        raise DuplicateNHSNumber(NHS_NUMBER_TAKEN) from exc
    return patient


def mark_sensitive(patient: Patient, sensitive: bool, by) -> Patient:
    """Restrict (or unrestrict) a record: opening it then needs a care relationship or a reason."""
    require(by, "restrict_records", patient)
    with transaction.atomic():
        patient.is_sensitive = sensitive
        patient.save(update_fields=["is_sensitive", "updated_at"])
        action = "mark_sensitive" if sensitive else "unmark_sensitive"
        audit.record(action, user=by, patient_id=patient.pk)
    return patient


# Details a person may correct on the patient page; the NHS number and registration have their
# own routes (registration, deduction, death).
EDITABLE_DETAILS = (
    "title",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
    "phone",
    "email",
    "usual_gp",
)


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(getattr(value, "display_name", value))


def update_patient_details(patient: Patient, details: dict, actor) -> DetailsChange | None:
    """Correct a patient's details, keeping what each changed field was (the history on the
    patient page). Returns the change, or None when nothing differed."""
    require(actor, "register_patients", patient)
    changes = {}
    for name in EDITABLE_DETAILS:
        if name in details and details[name] != getattr(patient, name):
            changes[name] = [_as_text(getattr(patient, name)), _as_text(details[name])]
            setattr(patient, name, details[name])
    if not changes:
        return None
    with transaction.atomic():
        patient.save()
        change = DetailsChange.objects.create(
            practice_id=patient.practice_id,
            patient=patient,
            changed_at=timezone.now(),
            changed_by=actor,
            changes=changes,
        )
        audit.record(
            "update_patient_details",
            user=actor,
            patient_id=patient.pk,
            detail=", ".join(sorted(changes)),
        )
    return change


@dataclass
class RegistrationEnded:
    patient: Patient
    cancelled: list  # the future appointments cancelled, each with its slot and clinician


def record_deduction(patient: Patient, actor, *, on: date, reason: str) -> RegistrationEnded:
    """The patient has left the list (moved away, registered elsewhere...): their future
    appointments are cancelled and listed."""
    return _end_registration(patient, actor, RegistrationStatus.DEDUCTED, on, reason)


def record_death(patient: Patient, actor, *, died_on: date) -> RegistrationEnded:
    """The patient has died: their future appointments are cancelled and listed, so none is
    kept, reminded or offered."""
    return _end_registration(patient, actor, RegistrationStatus.DECEASED, died_on, "Died")


def _end_registration(patient, actor, status, on: date, reason: str) -> RegistrationEnded:
    require(actor, "register_patients", patient)
    if patient.registration_status in (RegistrationStatus.DEDUCTED, RegistrationStatus.DECEASED):
        raise DomainError(
            f"This patient's registration has already ended "
            f"({patient.get_registration_status_display().lower()})."
        )
    if on > timezone.localdate():
        raise DomainError("The date cannot be in the future.")
    why = "Patient died" if status == RegistrationStatus.DECEASED else "Patient left the practice"
    with transaction.atomic():
        patient.registration_status = status
        patient.registration_ended_on = on
        patient.registration_end_reason = reason.strip()
        patient.save()
        cancelled = [
            appointments.cancel_appointment(a, CancelledBy.PRACTICE, why, actor)
            for a in _future_bookings(patient)
        ]
        audit.record(
            f"record_{'death' if status == RegistrationStatus.DECEASED else 'deduction'}",
            user=actor,
            patient_id=patient.pk,
            detail=f"{len(cancelled)} future appointments cancelled",
        )
    return RegistrationEnded(patient, cancelled)


def _future_bookings(patient) -> list[Appointment]:
    return list(
        Appointment.objects.filter(
            patient=patient, status=AppointmentStatus.BOOKED, slot__start__gt=timezone.now()
        )
        .select_related("slot", "slot__clinician")
        .order_by("slot__start")
    )
