"""Writes to the patient register."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from steadfast.accounts.access import require
from steadfast.audit import services as audit
from steadfast.errors import DuplicateNHSNumber, PossibleDuplicatePatient
from steadfast.patients.models import Patient
from steadfast.patients.queries import possible_duplicates
from steadfast.practices.models import Practice

NHS_NUMBER_TAKEN = "A patient with this NHS number is already registered at this practice."


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
