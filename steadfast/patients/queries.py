"""Reads of the patient register: finding a patient quickly and safely."""

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet

from steadfast.patients.models import DetailsChange, Patient
from steadfast.patients.names import UK_POSTCODE, name_key, postcode_key, prefix_range
from steadfast.patients.nhs_numbers import normalise_nhs_number
from steadfast.practices.models import Practice

SEARCH_LIMIT = 50
_DIGITS = re.compile(r"^[\d\s-]{10,13}$")
_OUTWARD_CODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d %b %Y", "%d %B %Y")


def parse_date(text: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def _prefix(field: str, prefix: str) -> Q:
    low, high = prefix_range(prefix)
    q = Q(**{f"{field}__gte": low})
    return q & Q(**{f"{field}__lt": high}) if high else q


def search_patients(practice: Practice, text: str, limit: int = SEARCH_LIMIT) -> list[Patient]:
    """Patients matching everything typed in one box.

    The box takes any mix of: an NHS number (with or without spaces), a date of birth
    (`24/11/1970`, `24 Nov 1970`), a postcode (`LS1 4AP` or just `LS1`), and the start of any
    name (`smi jo`), matched ignoring case and accents. Every part must match.
    """
    text = (text or "").strip()
    if not text:
        return []
    filters = Q()
    if _DIGITS.match(text) and (nhs := normalise_nhs_number(text)):
        return list(_base(practice).filter(nhs_number=nhs)[:limit])
    dob = parse_date(text)
    if dob:
        return list(_base(practice).filter(date_of_birth=dob)[:limit])
    postcode = postcode_key(text)
    if UK_POSTCODE.match(postcode):
        return list(_base(practice).filter(postcode_key=postcode)[:limit])

    words = text.replace(",", " ").split()
    remaining = []
    i = 0
    while i < len(words):
        # A date or postcode inside a longer query: "smith 24 Nov 1970", "jones LS1 4AP".
        if (found := _date_at(words, i)) is not None:
            filters &= Q(date_of_birth=found[0])
            i += found[1]
        elif (found := _postcode_at(words, i)) is not None:
            filters &= found[0]
            i += found[1]
        else:
            remaining.append(words[i])
            i += 1
    for word in remaining:
        key = name_key(word)
        if key:
            filters &= _prefix("family_name_key", key) | _prefix("given_name_key", key)
    if not filters:
        return []
    return list(_base(practice).filter(filters)[:limit])


@dataclass(frozen=True)
class PatientListing:
    """A patient as a list of search results shows them. A restricted (sensitive) record shows
    only its name, birth date and that it is restricted, whoever searches: the rest is behind
    opening the record (a care relationship or a break-glass reason)."""

    id: uuid.UUID
    listing_name: str
    date_of_birth: date
    restricted: bool
    nhs_number: str | None = None
    postcode: str = ""
    usual_gp_name: str = ""


def listings(patients: Iterable[Patient]) -> list[PatientListing]:
    """Search results fit to show (see PatientListing); the patients' usual GP selected."""
    return [
        PatientListing(p.pk, p.listing_name, p.date_of_birth, restricted=True)
        if p.is_sensitive
        else PatientListing(
            p.pk,
            p.listing_name,
            p.date_of_birth,
            restricted=False,
            nhs_number=p.nhs_number,
            postcode=p.postcode,
            usual_gp_name=p.usual_gp.display_name if p.usual_gp_id else "",
        )
        for p in patients
    ]


def _date_at(words: list[str], i: int) -> tuple[date, int] | None:
    for span in (3, 1):
        if i + span <= len(words) and (found := parse_date(" ".join(words[i : i + span]))):
            return found, span
    return None


def _postcode_at(words: list[str], i: int) -> tuple[Q, int] | None:
    for span in (2, 1):
        key = postcode_key(" ".join(words[i : i + span]))
        if i + span <= len(words) and UK_POSTCODE.match(key):
            return Q(postcode_key=key), span
    word = words[i].upper()
    if _OUTWARD_CODE.match(word) and any(c.isdigit() for c in word):
        return _prefix("postcode_key", word), 1
    return None


def _base(practice: Practice) -> QuerySet[Patient]:
    return (
        Patient.objects.filter(practice=practice)
        .select_related("usual_gp")
        .order_by("family_name_key", "given_name_key", "date_of_birth")
    )


def possible_duplicates(
    practice: Practice, given_name: str, family_name: str, dob
) -> list[Patient]:
    return list(
        Patient.objects.filter(
            practice=practice,
            given_name_key=name_key(given_name),
            family_name_key=name_key(family_name),
            date_of_birth=dob,
        ).select_related("usual_gp")
    )


def patient_for_practice(practice: Practice | uuid.UUID, patient_id) -> Patient:
    """The practice's patient (a Practice or its id will do), or Patient.DoesNotExist."""
    return Patient.objects.select_related("usual_gp").get(pk=patient_id, practice=practice)


def patient_with_nhs_number(practice: Practice, nhs_number: str) -> Patient | None:
    return Patient.objects.filter(practice=practice, nhs_number=nhs_number).first()


def find_patients(
    practice: Practice,
    *,
    nhs_number: str | None = None,
    name: list[str] = (),
    family: list[str] = (),
    given: list[str] = (),
    postcode: list[str] = (),
    born: Q | None = None,
) -> QuerySet[Patient]:
    """Patients matching every criterion given separately (the API's search parameters).

    Names and postcodes match from the start, ignoring case and accents; each word of `name`
    may match either the first or the last name. The caller pages the result.
    """
    filters = Q()
    if nhs_number is not None:
        filters &= Q(nhs_number=normalise_nhs_number(nhs_number) or "-")
    for text in name:
        for word in text.replace(",", " ").split():
            key = name_key(word)
            filters &= _prefix("family_name_key", key) | _prefix("given_name_key", key)
    for text in family:
        filters &= _prefix("family_name_key", name_key(text))
    for text in given:
        filters &= _prefix("given_name_key", name_key(text))
    for text in postcode:
        filters &= _prefix("postcode_key", postcode_key(text))
    if born is not None:
        filters &= born
    return _base(practice).filter(filters)


def details_history(patient, limit: int = 20) -> list:
    """The latest changes to a patient's details, newest first, with who made them."""
    return list(DetailsChange.objects.filter(patient=patient).select_related("changed_by")[:limit])
