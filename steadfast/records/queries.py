"""Reading the patient record: plain data for the screens, in a bounded number of queries."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from steadfast.accounts.access import can
from steadfast.appointments.models import Appointment
from steadfast.records.models import (
    Allergy,
    CodeSystem,
    Concept,
    Consultation,
    ConsultationVersion,
    Document,
    Immunisation,
    Medication,
    MedicationIssue,
    MedicationKind,
    NoKnownAllergies,
    Observation,
    PatientFlag,
    Problem,
    ProblemStatus,
    search_key,
)
from steadfast.records.observations import TYPES

JOURNAL_PAGE = 100


@dataclass
class Banner:
    age: int
    allergies: list
    no_known_allergies: object  # the NoKnownAllergies entry, or None
    flags: list


def banner(patient) -> Banner:
    allergies = list(
        Allergy.objects.filter(patient=patient)
        .select_related("substance", "reaction")
        .order_by("-occurred_at")
    )
    nka = None
    if not allergies:
        nka = (
            NoKnownAllergies.objects.filter(patient=patient)
            .select_related("concept")
            .order_by("-occurred_at")
            .first()
        )
    flags = list(
        PatientFlag.objects.filter(patient=patient, ended_at__isnull=True)
        .select_related("concept")
        .order_by("-occurred_at")
    )
    age = patient.age_on(timezone.localdate())
    return Banner(age=age, allergies=allergies, no_known_allergies=nka, flags=flags)


def record_banner(patient, user) -> Banner:
    """The banner for any page of the patient: age for everyone, allergies and alerts for
    clinical roles only (reception sees demographics, not clinical content)."""
    if can(user, "view_clinical_record"):
        return banner(patient)
    return Banner(
        age=patient.age_on(timezone.localdate()), allergies=[], no_known_allergies=None, flags=[]
    )


def latest_observations(patient) -> list[Observation]:
    """The newest value of each kind: one indexed LIMIT 1 per kind, in a single statement."""
    kinds = [*TYPES, "smoking"]
    table = Observation._meta.db_table
    per_kind = " UNION ALL ".join(
        f"SELECT (SELECT id FROM {table} WHERE patient_id = %s AND kind = %s"
        " ORDER BY occurred_at DESC LIMIT 1) AS id"
        for _ in kinds
    )
    params = [p for kind in kinds for p in (_db_id(patient.pk), kind)]
    with connection.cursor() as cursor:
        cursor.execute(per_kind, params)
        ids = [row[0] for row in cursor.fetchall() if row[0] is not None]
    found = Observation.objects.filter(patient=patient, id__in=ids).select_related("concept")
    order = {kind: i for i, kind in enumerate(kinds)}
    return sorted(found, key=lambda o: order[o.kind])


def _db_id(pk: UUID):
    """A UUID as this database stores it (raw SQL parameters skip the field's conversion)."""
    return pk.hex if connection.vendor == "sqlite" else pk


def current_medications(patient) -> list[Medication]:
    now = timezone.now()
    return [
        m
        for m in Medication.objects.filter(patient=patient, stopped_at__isnull=True)
        .select_related("concept")
        .order_by("kind", "concept__term")
        if is_current(m, now)
    ]


def patient_summary(patient) -> dict:
    current = current_medications(patient)
    return {
        "banner": banner(patient),
        "problems": list(
            Problem.objects.filter(patient=patient, status=ProblemStatus.ACTIVE)
            .select_related("concept")
            .order_by("-significance", "-onset")[:100]
        ),
        "repeats": [m for m in current if m.kind == MedicationKind.REPEAT],
        "observations": latest_observations(patient),
        "consultations": list(
            Consultation.objects.filter(patient=patient)
            .select_related("recorded_by")
            .order_by("-occurred_at")[:5]
        ),
    }


@dataclass
class JournalItem:
    entry_type: str
    entry: object

    @property
    def occurred_at(self) -> datetime:
        return self.entry.occurred_at

    @property
    def key(self) -> tuple:
        return (self.entry.occurred_at, self.entry.pk)


# Entry type (as filtered on the journal): its model and the relations its line shows.
JOURNAL_TYPES = {
    "consultation": (Consultation, []),
    "problem": (Problem, ["concept"]),
    "medication": (Medication, ["concept"]),
    "issue": (MedicationIssue, ["medication__concept"]),
    "allergy": (Allergy, ["substance", "reaction"]),
    "observation": (Observation, ["concept"]),
    "immunisation": (Immunisation, ["vaccine"]),
    "document": (Document, []),
    "flag": (PatientFlag, ["concept"]),
}
# Issues are the bulk of a long record: load only what their line shows.
ISSUE_FIELDS = [
    "occurred_at",
    "recorded_at",
    "recorded_by_id",
    "retrospective",
    "entered_via",
    "number",
    "quantity",
    "medication__concept__term",
]
JOURNAL_LABELS = {
    "consultation": "Consultations",
    "problem": "Problems",
    "medication": "Medicines",
    "issue": "Issues",
    "allergy": "Allergies",
    "observation": "Observations",
    "immunisation": "Immunisations",
    "document": "Documents",
    "flag": "Alerts",
}


def parse_cursor(raw: str) -> tuple[datetime, UUID] | None:
    try:
        when, _, pk = raw.partition("_")
        return datetime.fromisoformat(when), UUID(pk)
    except ValueError:
        return None


def journal(patient, types=None, before: tuple | None = None, limit: int = JOURNAL_PAGE) -> dict:
    """The record in time order, newest first, a page at a time.

    One statement merges the entry tables' (occurred_at, id) indexes to find the page, then only
    the rows on it are loaded, a query per entry type present: a 4,000-entry record costs what a
    40-entry one does.
    """
    wanted = [t for t in (types or JOURNAL_TYPES) if t in JOURNAL_TYPES] or list(JOURNAL_TYPES)
    # Shown with its consultation, an entry made in one is not a line of its own.
    grouped = "consultation" in wanted
    on_page = _journal_page_keys(patient, wanted, before, limit + 1, grouped)
    by_type: dict[str, list] = {}
    for entry_type, pk in on_page:
        by_type.setdefault(entry_type, []).append(pk)
    items = []
    for entry_type, ids in by_type.items():
        model, related = JOURNAL_TYPES[entry_type]
        qs = model.objects.filter(patient=patient, id__in=ids).select_related(*related)
        if model is Document:
            qs = qs.defer("content")
        if model is MedicationIssue:
            qs = qs.only(*ISSUE_FIELDS)
        items += [JournalItem(entry_type, e) for e in qs]
    _attach_authors([item.entry for item in items])
    items.sort(key=lambda i: i.key, reverse=True)
    page, more = items[:limit], len(items) > limit
    if grouped:
        _attach_parts([i.entry for i in page if i.entry_type == "consultation"])
    cursor = None
    if more and page:
        last = page[-1]
        cursor = f"{last.occurred_at.isoformat()}_{last.entry.pk}"
    return {"items": page, "next_cursor": cursor, "types": wanted}


def _attach_authors(entries: list) -> None:
    """Who recorded each entry, from one query for the few staff involved (not a join per row)."""
    ids = {e.recorded_by_id for e in entries}
    users = (
        get_user_model()
        .objects.filter(id__in=ids)
        .only("id", "username", "title", "first_name", "last_name", "role")
    )
    by_id = {u.id: u for u in users}
    for e in entries:
        type(e)._meta.get_field("recorded_by").set_cached_value(e, by_id[e.recorded_by_id])


def _attach_parts(consultations: list[Consultation]) -> None:
    """Each consultation's coded entries as `parts`, in the order a consultation is read:
    problems, observations, medicines, immunisations. A query per kind, whatever the page."""
    parts: dict = {c.pk: [] for c in consultations}
    if not parts:
        return
    links = Problem.consultations.through.objects.filter(consultation_id__in=parts)
    for link in links.select_related("problem__concept").order_by("problem__occurred_at"):
        parts[link.consultation_id].append(("problem", link.problem))
    for entry_type, model, related in (
        ("observation", Observation, "concept"),
        ("medication", Medication, "concept"),
        ("immunisation", Immunisation, "vaccine"),
    ):
        rows = model.objects.filter(consultation_id__in=parts).select_related(related)
        for entry in rows.order_by("occurred_at", "id"):
            parts[entry.consultation_id].append((entry_type, entry))
    for c in consultations:
        c.parts = parts[c.pk]


# Left out of the journal's own lines when consultations are shown with their parts.
PART_OF_A_CONSULTATION = {
    "problem": "NOT EXISTS (SELECT 1 FROM {links} WHERE problem_id = {table}.id)",
    "observation": "consultation_id IS NULL",
    "medication": "consultation_id IS NULL",
    "immunisation": "consultation_id IS NULL",
    # A medicine prescribed in a consultation is shown there; so is its first issue.
    "issue": (
        "NOT (number = 1 AND medication_id IN"
        " (SELECT id FROM {medications} WHERE consultation_id IS NOT NULL))"
    ),
}


def _journal_page_keys(
    patient, types: list[str], before, count: int, grouped: bool = False
) -> list[tuple[str, UUID]]:
    """(entry type, id) of the newest `count` entries of `types` (older than `before`); when
    `grouped`, not those shown as parts of a consultation."""
    branches, params = [], []
    for entry_type in types:
        model = JOURNAL_TYPES[entry_type][0]
        where, args = "patient_id = %s", [_db_id(patient.pk)]
        if grouped and entry_type in PART_OF_A_CONSULTATION:
            where += " AND " + PART_OF_A_CONSULTATION[entry_type].format(
                table=model._meta.db_table,
                links=Problem.consultations.through._meta.db_table,
                medications=Medication._meta.db_table,
            )
        if before is not None:
            when, pk = before
            at = model._meta.get_field("occurred_at").get_db_prep_value(when, connection)
            where += " AND (occurred_at < %s OR (occurred_at = %s AND id < %s))"
            args += [at, at, _db_id(pk)]
        branches.append(
            f"SELECT occurred_at, id, '{entry_type}' AS entry_type"
            f" FROM {model._meta.db_table} WHERE {where}"
        )
        params += args
    sql = (
        f"SELECT entry_type, id FROM ({' UNION ALL '.join(branches)}) AS entries"
        " ORDER BY occurred_at DESC, id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, count])
        return [(entry_type, UUID(str(pk))) for entry_type, pk in cursor.fetchall()]


def observation_series(patient, kind: str, limit: int = 500) -> list[Observation]:
    """The latest `limit` values of one observation, oldest first, for a chart and table."""
    rows = list(
        Observation.objects.filter(patient=patient, kind=kind)
        .only(
            "occurred_at",
            "recorded_at",
            "retrospective",
            "entered_via",
            "value",
            "value2",
            "unit",
            "kind",
            "derived",
        )
        .order_by("-occurred_at")[:limit]
    )
    rows.reverse()
    return rows


def search_concepts(query: str, uses: list[str], limit: int = 20) -> list[Concept]:
    """Concepts whose term has words starting with each word typed, or whose code is typed."""
    query = query.strip()
    if not query:
        return []
    base = Concept.objects.filter(use__in=uses)
    if query.isdigit():
        return list(base.filter(code=query)[:limit])
    key = search_key(query)
    prefix = list(base.filter(search_key__startswith=key).order_by("term")[:limit])
    if len(prefix) >= limit:
        return prefix
    words = base.exclude(pk__in=[c.pk for c in prefix])
    for word in key.split():
        words = words.filter(search_key__contains=" " + word)
    return prefix + list(words.order_by("term")[: limit - len(prefix)])


def concept_by_code(code: str, uses: list[str]) -> Concept | None:
    system = CodeSystem.DMD if uses == ["medicine"] else None
    qs = Concept.objects.filter(code=code, use__in=uses)
    if system:
        qs = qs.filter(system=system)
    return qs.first()


def concepts_for(use: str) -> list[Concept]:
    """Every concept of one use (e.g. the reactions an allergy may cause), by term."""
    return list(Concept.objects.filter(use=use).order_by("term"))


def patients_appointment(patient, raw_id) -> Appointment | None:
    """The patient's appointment a consultation is started from; None for no or a bad id."""
    try:
        return Appointment.objects.filter(pk=UUID(str(raw_id)), patient=patient).first()
    except ValueError:
        return None


def earlier_versions(consultation) -> list[ConsultationVersion]:
    return list(
        ConsultationVersion.objects.filter(consultation=consultation).select_related(
            "written_by", "replaced_by"
        )
    )


def documents(patient) -> list[Document]:
    return list(
        Document.objects.filter(patient=patient)
        .defer("content")
        .select_related("recorded_by")
        .order_by("-occurred_at")
    )


# An acute medicine is a single course: current while it may still be being taken, then past.
ACUTE_COURSE_DAYS = 28


def is_current(medication: Medication, now) -> bool:
    """Not stopped, and a repeat, or an acute medicine prescribed in the last four weeks."""
    if medication.stopped_at is not None:
        return False
    return medication.kind == MedicationKind.REPEAT or (
        now - medication.occurred_at <= timedelta(days=ACUTE_COURSE_DAYS)
    )


def medication_history(patient) -> list[Medication]:
    return list(
        Medication.objects.filter(patient=patient)
        .select_related("concept")
        .order_by("stopped_at", "-occurred_at")[:300]
    )


JOURNAL_SINGULAR = {
    "consultation": "Consultation",
    "problem": "Problem",
    "medication": "Medicine",
    "issue": "Issue",
    "allergy": "Allergy",
    "observation": "Observation",
    "immunisation": "Immunisation",
    "document": "Document",
    "flag": "Alert",
}


def consultation_for(patient, consultation_id) -> Consultation:
    """The patient's consultation, or Consultation.DoesNotExist."""
    return Consultation.objects.get(pk=consultation_id, patient=patient)


def medication_for(patient, medication_id) -> Medication:
    """The patient's medication, or Medication.DoesNotExist."""
    return Medication.objects.select_related("patient").get(pk=medication_id, patient=patient)


def document_for(patient, document_id) -> Document:
    """The patient's document, or Document.DoesNotExist."""
    return Document.objects.get(pk=document_id, patient=patient)
