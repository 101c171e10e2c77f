"""What a downtime pack holds, read in bulk: a fixed number of queries for any size of practice.

The day lists come from the appointment book's own query (`arrivals`); the record tables are
read once each for the whole practice (register) or for the booked patients (summaries), never
a query per patient. The result is plain data, ready for JSON (the HTML pack) or a template
(the PDF).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from steadfast.appointments.models import LIVE_STATUSES, Appointment
from steadfast.appointments.queries import arrivals, day_bounds
from steadfast.continuity.models import DowntimePassphrase
from steadfast.jinja import counted, uk_date, uk_time, uk_weekday_date
from steadfast.patients.models import Patient, RegistrationStatus
from steadfast.patients.names import name_key
from steadfast.patients.nhs_numbers import format_nhs_number
from steadfast.practices.models import Practice
from steadfast.records.models import (
    Allergy,
    Certainty,
    Consultation,
    Medication,
    NoKnownAllergies,
    Observation,
    PatientFlag,
    Problem,
    ProblemStatus,
    Significance,
)
from steadfast.records.observations import TYPES

RESTRICTED = "restricted record"
LAST_CONSULTATIONS = 3
CONSULTATION_TEXT_LIMIT = 600  # characters of each of history, examination and plan
ON_THE_REGISTER = (RegistrationStatus.REGISTERED, RegistrationStatus.TEMPORARY)
_PATIENT_FIELDS = (
    "id",
    "title",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "nhs_number",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
    "phone",
    "email",
    "is_sensitive",
    "usual_gp_id",
    "registration_status",
)


@dataclass
class PackContents:
    practice: Practice
    made_at: datetime
    days: list[dict]
    register: list[dict]  # every patient on the register; restricted ones by name only
    summaries: list[dict]  # one per booked patient who is not restricted
    booked: int = 0  # distinct patients with an appointment in the window

    def payload(self) -> dict:
        """What the page decrypts: everything it shows, and nothing else."""
        return {
            "v": 1,
            "practice": {"name": self.practice.name, "ods": self.practice.ods_code},
            "made_at": self.made_at.isoformat(),
            "days": self.days,
            "register": self.register,
            "summaries": self.summaries,
        }


def downtime_passphrase(practice: Practice) -> DowntimePassphrase | None:
    """When and by whom the practice's passphrase was set (the verifier is never shown)."""
    return DowntimePassphrase.objects.filter(practice=practice).select_related("set_by").first()


def pack_contents(practice: Practice, first_day: date, days: int, now: datetime) -> PackContents:
    """The day lists from `first_day` for `days` days, summaries of the patients booked in them,
    and the whole register."""
    today = timezone.localdate(now)
    lists = [(day, arrivals(practice, day)) for day in _days(first_day, days)]
    booked_patients = {a.patient_id: a.patient for _, day_list in lists for a in day_list}
    patients = _register_patients(practice, booked_patients)
    index = {p["id"]: i for i, p in enumerate(patients)}
    staff = _staff_names(practice)
    essentials = _essentials(practice)

    register = [_register_entry(p, essentials, today) for p in patients]
    booked = _booked_ids(practice, first_day, days)
    summaries = []
    details = _booked_details(booked)
    for patient_id in sorted(booked_patients, key=lambda pid: index[pid]):
        i = index[patient_id]
        if register[i].get("restricted"):
            continue
        register[i]["summary"] = len(summaries)
        summaries.append(_summary(patients[i], i, register[i], essentials, details, staff, today))
    return PackContents(
        practice=practice,
        made_at=now,
        days=[_day_list(day, day_list, index, register) for day, day_list in lists],
        register=register,
        summaries=summaries,
        booked=len(booked_patients),
    )


def _days(first_day: date, days: int) -> list[date]:
    return [first_day + timedelta(days=n) for n in range(days)]


def _booked_ids(practice: Practice, first_day: date, days: int) -> QuerySet:
    """The patients booked in the window, as a subquery (no list of ids sent to the database)."""
    start, _ = day_bounds(first_day)
    _, end = day_bounds(first_day + timedelta(days=days - 1))
    return Appointment.objects.filter(
        practice=practice, slot__start__gte=start, slot__start__lt=end, status__in=LIVE_STATUSES
    ).values("patient_id")


def _register_patients(practice: Practice, booked: dict) -> list[dict]:
    """Registered and temporary patients in the order lists use, plus anyone booked who has
    since left the register (so every list row has a name)."""
    rows = list(
        Patient.objects.filter(practice=practice, registration_status__in=ON_THE_REGISTER)
        .order_by("family_name_key", "given_name_key", "date_of_birth")
        .values(*_PATIENT_FIELDS)
    )
    on_register = {r["id"] for r in rows}
    for patient_id, patient in booked.items():
        if patient_id not in on_register:
            rows.append({f: getattr(patient, f) for f in _PATIENT_FIELDS})
    return rows


def _staff_names(practice: Practice) -> dict:
    users = get_user_model().objects.filter(practice=practice)
    return {u.pk: u.display_name for u in users}


@dataclass
class _Essentials:
    """Per patient id: what the register shows for everyone."""

    allergies: dict = field(default_factory=lambda: defaultdict(list))
    no_known_allergies: dict = field(default_factory=dict)
    medicines: dict = field(default_factory=lambda: defaultdict(list))
    problems: dict = field(default_factory=lambda: defaultdict(list))


def _essentials(practice: Practice) -> _Essentials:
    """Allergies, current medicines and active problems of the whole practice: a query each."""
    found = _Essentials()
    allergies = (
        Allergy.objects.filter(practice=practice)
        .order_by("-occurred_at")
        .values_list("patient_id", "substance__term", "reaction__term", "severity", "certainty")
    )
    for patient_id, substance, reaction, severity, certainty in allergies:
        found.allergies[patient_id].append(_allergy_text(substance, reaction, severity, certainty))
    statements = (
        NoKnownAllergies.objects.filter(practice=practice)
        .order_by("occurred_at")
        .values_list("patient_id", "occurred_at")
    )
    found.no_known_allergies = dict(statements)  # the latest statement wins
    medicines = (
        Medication.objects.filter(practice=practice, stopped_at__isnull=True)
        .order_by("kind", "concept__term")
        .values_list("patient_id", "concept__term", "dose", "quantity", "quantity_unit", "kind")
    )
    for patient_id, term, dose, quantity, unit, kind in medicines:
        found.medicines[patient_id].append(f"{term} — {dose} ({counted(quantity, unit)}, {kind})")
    problems = (
        Problem.objects.filter(practice=practice, status=ProblemStatus.ACTIVE)
        .order_by("-significance", "-onset")
        .values_list("patient_id", "concept__term", "onset", "significance")
    )
    for patient_id, term, onset, significance in problems:
        major = " (major)" if significance == Significance.MAJOR else ""
        found.problems[patient_id].append(f"{term}{major}, since {uk_date(onset)}")
    return found


def _allergy_text(substance: str, reaction: str | None, severity: str, certainty: str) -> str:
    reaction_text = f": {reaction.lower()}" if reaction else ""
    suspected = ", suspected" if certainty == Certainty.SUSPECTED else ""
    return f"{substance}{reaction_text} ({severity}{suspected})"


def allergy_status(patient_id, essentials: _Essentials) -> str:
    """What the banner says: the allergies, or whether anyone asked."""
    if essentials.allergies.get(patient_id):
        return ""
    if stated := essentials.no_known_allergies.get(patient_id):
        return f"No known allergies (recorded {uk_date(stated)})"
    return "Allergies not recorded"


def _address(p: dict) -> str:
    parts = [p["address_line1"], p["address_line2"], p["town"], p["postcode"]]
    return ", ".join(part for part in parts if part)


def listing_name(p: dict) -> str:
    title = f" ({p['title']})" if p["title"] else ""
    return f"{p['family_name'].upper()}, {p['given_name']}{title}"


def _search_keys(p: dict) -> list[str]:
    """What a typed name is matched against (from the start of each), as the live search does."""
    words = f"{p['given_name']} {p['family_name']}".replace("-", " ").split()
    keys = {name_key(p["given_name"]), name_key(p["family_name"]), *map(name_key, words)}
    return sorted(k for k in keys if k)


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _register_entry(p: dict, essentials: _Essentials, today: date) -> dict:
    entry = {"name": listing_name(p), "keys": _search_keys(p)}
    if p["is_sensitive"]:
        return {**entry, "restricted": True}
    pid = p["id"]
    entry.update(
        born=p["date_of_birth"].isoformat(),
        born_text=f"{uk_date(p['date_of_birth'])} ({_age(p['date_of_birth'], today)})",
        nhs=format_nhs_number(p["nhs_number"]),
        address=_address(p),
        phone=p["phone"],
        allergies=essentials.allergies.get(pid, []),
        allergy_status=allergy_status(pid, essentials),
        medicines=essentials.medicines.get(pid, []),
        problems=essentials.problems.get(pid, []),
    )
    if p["registration_status"] != RegistrationStatus.REGISTERED:
        entry["status"] = RegistrationStatus(p["registration_status"]).label
    return entry


def _day_list(day: date, appointments: list, index: dict, register: list[dict]) -> dict:
    clinicians: dict[int, dict] = {}
    for a in appointments:
        clinician = a.slot.clinician
        column = clinicians.setdefault(
            clinician.pk, {"name": clinician.display_name, "role": clinician.get_role_display()}
        )
        i = index[a.patient_id]
        restricted = bool(register[i].get("restricted"))
        column.setdefault("rows", []).append(
            {
                "time": uk_time(a.slot.start),
                "end": uk_time(a.slot.end),
                "patient": i,
                "type": a.slot.get_slot_type_display(),
                "mode": a.slot.get_delivery_mode_display(),
                # A restricted patient's reason may say why the record is restricted.
                "reason": "" if restricted else a.reason,
                "status": a.get_status_display(),
            }
        )
    ordered = sorted(clinicians.values(), key=lambda c: (c["role"], c["name"]))
    return {"date": day.isoformat(), "title": uk_weekday_date(day), "clinicians": ordered}


@dataclass
class _BookedDetails:
    """Per booked patient id: what only the summaries show."""

    flags: dict
    consultations: dict
    observations: dict


def _booked_details(booked: QuerySet) -> _BookedDetails:
    flags = defaultdict(list)
    for patient_id, term, note in (
        PatientFlag.objects.filter(patient_id__in=booked, ended_at__isnull=True)
        .order_by("-occurred_at")
        .values_list("patient_id", "concept__term", "note")
    ):
        flags[patient_id].append(f"{term}: {note}" if note else term)
    return _BookedDetails(
        flags=flags,
        consultations=_last_consultations(booked),
        observations=_latest_observations(booked),
    )


def _newest_per(queryset: QuerySet, partition: list[str], keep: int) -> QuerySet:
    """The newest `keep` rows of each partition, by a window function (one statement)."""
    return queryset.annotate(
        newness=Window(
            RowNumber(),
            partition_by=[F(name) for name in partition],
            order_by=[F("occurred_at").desc(), F("id").desc()],
        )
    ).filter(newness__lte=keep)


def _last_consultations(booked: QuerySet) -> dict:
    found = defaultdict(list)
    rows = _newest_per(
        Consultation.objects.filter(patient_id__in=booked), ["patient_id"], LAST_CONSULTATIONS
    ).values_list(
        "patient_id",
        "occurred_at",
        "consultation_type",
        "history",
        "examination",
        "plan",
        "recorded_by_id",
    )
    for patient_id, occurred_at, kind, history, examination, plan, by in rows:
        found[patient_id].append((occurred_at, kind, history, examination, plan, by))
    for entries in found.values():
        entries.sort(key=lambda e: e[0], reverse=True)
    return found


def _latest_observations(booked: QuerySet) -> dict:
    kinds = [*TYPES, "smoking"]
    found = defaultdict(dict)
    rows = _newest_per(
        Observation.objects.filter(patient_id__in=booked, kind__in=kinds),
        ["patient_id", "kind"],
        1,
    ).values_list("patient_id", "kind", "value", "value2", "unit", "occurred_at", "concept__term")
    for patient_id, kind, value, value2, unit, occurred_at, term in rows:
        found[patient_id][kind] = {
            "label": TYPES[kind].label if kind in TYPES else "Smoking status",
            "value": _observation_value(kind, value, value2, unit, term),
            "date": uk_date(occurred_at),
        }
    order = {kind: i for i, kind in enumerate(kinds)}
    return {
        pid: [v for k, v in sorted(by_kind.items(), key=lambda kv: order[kv[0]])]
        for pid, by_kind in found.items()
    }


def _observation_value(kind: str, value, value2, unit: str, term: str) -> str:
    if kind == "smoking":
        return term
    if kind == "bp":
        return f"{int(value)}/{int(value2)} {unit}"
    return f"{round(float(value), 1):g} {unit}"


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= CONSULTATION_TEXT_LIMIT else text[:CONSULTATION_TEXT_LIMIT] + "…"


def _summary(
    p: dict,
    register_index: int,
    entry: dict,
    essentials: _Essentials,
    details: _BookedDetails,
    staff: dict,
    today: date,
) -> dict:
    pid = p["id"]
    consultations = []
    for occurred_at, kind, history, examination, plan, by in details.consultations.get(pid, []):
        parts = [("History", history), ("Examination", examination), ("Plan", plan)]
        consultations.append(
            {
                "date": uk_date(occurred_at),
                "type": Consultation(consultation_type=kind).get_consultation_type_display(),
                "by": staff.get(by, ""),
                "text": [f"{label}: {_clip(text)}" for label, text in parts if text],
            }
        )
    return {
        "patient": register_index,
        "sex": Patient(sex=p["sex"]).get_sex_display(),
        "email": p["email"],
        "usual_gp": staff.get(p["usual_gp_id"], ""),
        "alerts": details.flags.get(pid, []),
        "consultations": consultations,
        "observations": details.observations.get(pid, []),
    }
