"""Writes to the patient register."""

from django.db import IntegrityError, transaction
from django.utils import timezone

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
    except IntegrityError as exc:
        raise DuplicateNHSNumber(NHS_NUMBER_TAKEN) from exc
    return patient
