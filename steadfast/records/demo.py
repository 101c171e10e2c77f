"""Plausible synthetic histories for the demo practice, written with bulk inserts.

Chronic conditions arrive with age at roughly the rates seen in English general practice
(QOF prevalence), each bringing its repeat medicines (re-authorised yearly), reviews with
observations, and consultations; some patients are given 20 years of multimorbid history
(2,000+ entries). Every code is a shipped one (a test checks). Nothing here is real.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.db import connection, models
from django.utils import timezone

from steadfast.appointments.models import Appointment, AppointmentStatus
from steadfast.records.loading import load_shipped_if_empty
from steadfast.records.models import (
    Allergy,
    Concept,
    Consultation,
    Immunisation,
    Medication,
    MedicationIssue,
    NoKnownAllergies,
    Observation,
    PatientFlag,
    Problem,
)
from steadfast.records.observations import SMOKING_STATUS, TYPES, body_mass_index


@dataclass(frozen=True)
class Condition:
    code: str  # SNOMED CT problem
    name: str
    min_age: int
    chance_at_40: float  # share of people who have it by 40, and by 80 (linear between)
    chance_at_80: float
    medicines: tuple[tuple[str, str, int], ...]  # dm+d VPID, dose, quantity per issue
    reviews: tuple[str, ...] = ()  # observation kinds measured at each review
    female_only: bool = False


CONDITIONS = [
    Condition(
        "59621000",
        "Essential hypertension",
        30,
        0.06,
        0.50,
        (("319283006", "One tablet once a day", 28), ("318902004", "One capsule once a day", 28)),
        ("bp", "weight", "egfr"),
    ),
    Condition(
        "44054006",
        "Type 2 diabetes mellitus",
        30,
        0.03,
        0.16,
        (
            ("325278007", "One tablet twice a day with food", 56),
            ("320030001", "One tablet at night", 28),
        ),
        ("bp", "hba1c", "weight", "egfr", "cholesterol"),
    ),
    Condition(
        "195967001",
        "Asthma",
        0,
        0.08,
        0.07,
        (
            ("320139002", "Two puffs when required", 1),
            ("35908111000001105", "Two puffs twice a day", 1),
        ),
        ("pulse",),
    ),
    Condition(
        "13645005",
        "Chronic obstructive lung disease",
        45,
        0.0,
        0.06,
        (("320139002", "Two puffs when required", 1),),
        ("pulse", "weight"),
    ),
    Condition(
        "49436004",
        "Atrial fibrillation",
        55,
        0.0,
        0.08,
        (("703908001", "One tablet twice a day", 56), ("318590006", "One tablet once a day", 28)),
        ("bp", "pulse", "egfr"),
    ),
    Condition(
        "55822004",
        "Hyperlipidaemia",
        40,
        0.01,
        0.12,
        (("320030001", "One tablet at night", 28),),
        ("cholesterol",),
    ),
    Condition(
        "40930008",
        "Hypothyroidism",
        20,
        0.02,
        0.06,
        (("374296008", "One tablet each morning", 28),),
        (),
        female_only=True,
    ),
    Condition(
        "35489007",
        "Depressive disorder",
        16,
        0.08,
        0.06,
        (("42269411000001107", "One tablet once a day", 28),),
        (),
    ),
    Condition("700378005", "Chronic kidney disease stage 3A", 60, 0.0, 0.10, (), ("bp", "egfr")),
    Condition(
        "396275006",
        "Osteoarthritis",
        50,
        0.0,
        0.18,
        (("317291008", "One capsule once a day", 28),),
        (),
    ),
    Condition(
        "235595009",
        "Gastro-oesophageal reflux disease",
        25,
        0.03,
        0.06,
        (("317291008", "One capsule once a day", 28),),
        (),
    ),
]
ACUTE = [
    (
        "21522001",
        "Abdominal pain",
        "Colicky lower abdominal pain two days; soft, non-tender.",
        None,
    ),
]
ACUTE_MEDICINES = [  # VPID, dose, quantity, plan, the allergy that rules it out
    (
        "323510009",
        "One capsule three times a day",
        15,
        "Chest infection: amoxicillin.",
        "764146007",
    ),
    ("324431001", "One tablet twice a day", 6, "Urinary symptoms: trimethoprim.", None),
    ("324572002", "One capsule twice a day", 6, "Urinary symptoms: nitrofurantoin.", None),
    (
        "329807003",
        "One tablet twice a day with food",
        28,
        "Back pain: naproxen short course.",
        "372665008",
    ),
]
ALLERGIES = [  # substance, reaction, share of patients
    ("764146007", "126485001", 0.06),  # penicillin, urticaria
    ("372665008", "56018004", 0.015),  # NSAIDs, wheezing
    ("387494007", "422587007", 0.01),  # codeine, nausea
    ("111088007", "271807003", 0.005),  # latex, eruption of skin
    ("762952008", "39579001", 0.005),  # peanut, anaphylaxis
]
INFLUENZA_VACCINATION = "86198006"
PNEUMOCOCCAL_VACCINATION = "12866006"
FLAGS = ["302767002", "105529008"]  # cares for a relative, lives alone


def unit_of(dose: str) -> str:
    """What a quantity counts, from the dose: inhalers for puffs, else capsules or tablets."""
    if "puff" in dose:
        return "inhaler"
    return "capsule" if "capsule" in dose else "tablet"


HISTORY_YEARS = 3  # ordinary patients: the last years of their record (keeps the demo fast)
LONG_HISTORY_YEARS = 20
LONG_HISTORY_SHARE = 0.002
BATCH = 5000


def new(model, **values) -> SimpleNamespace:
    """A row to insert: model instances cost too much to build a million times."""
    return SimpleNamespace(_model=model, **values)


class Writer:
    """Buffers rows per model and inserts them with executemany (FKs are checked at commit).

    Model.objects.bulk_create spends most of its time building instances and preparing each
    value through the field machinery; for the rows of a 10,000-patient demo that is minutes.
    Here each column gets one converter, chosen once per model.
    """

    def __init__(self) -> None:
        self.rows: dict = {}
        self.counts: dict = {}
        self.plans: dict = {}

    def add(self, row: SimpleNamespace) -> SimpleNamespace:
        bucket = self.rows.setdefault(row._model, [])
        bucket.append(row)
        if len(bucket) >= BATCH:
            self.flush(row._model)
        return row

    def flush(self, model=None) -> None:
        for m in [model] if model else list(self.rows):
            bucket = self.rows.get(m) or []
            if bucket:
                into, columns = self.plan(m)
                rows = [
                    tuple(convert(getattr(r, name, default)) for name, convert, default in columns)
                    for r in bucket
                ]
                with connection.cursor() as cursor:
                    if connection.vendor == "postgresql":  # COPY: PostgreSQL's fastest load
                        with cursor.cursor.copy(f"COPY {into} FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
                    else:
                        values = ", ".join(["%s"] * len(columns))
                        cursor.executemany(f"INSERT INTO {into} VALUES ({values})", rows)
                self.counts[m.__name__] = self.counts.get(m.__name__, 0) + len(bucket)
                bucket.clear()

    def plan(self, model) -> tuple[str, list]:
        """`table (column, ...)` and, per column, (attribute, converter, default)."""
        if model not in self.plans:
            fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
            quote = connection.ops.quote_name
            into = "{} ({})".format(
                quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
            )
            columns = [(f.attname, _converter(f), _default(f)) for f in fields]
            self.plans[model] = (into, columns)
        return self.plans[model]


def _default(field: models.Field):
    """The value Django would use when a row leaves the field out ("" for text, not NULL)."""
    if field.has_default() and callable(field.default):
        return None  # e.g. uuid4: every row passes its own
    return field.get_default()


def _converter(field: models.Field):
    sqlite = connection.vendor == "sqlite"
    target = field.target_field if field.is_relation else field
    if isinstance(target, models.UUIDField):
        return (lambda v: v if v is None else v.hex) if sqlite else (lambda v: v)
    if isinstance(field, models.DateTimeField):
        if not sqlite:
            return lambda v: v
        return lambda v: v if v is None else str(v.astimezone(UTC).replace(tzinfo=None))
    if isinstance(field, (models.CharField, models.TextField, models.BooleanField)):
        return lambda v: v
    if isinstance(target, (models.AutoField, models.IntegerField)):
        return lambda v: v
    return lambda v: field.get_db_prep_save(v, connection)


class History:
    def __init__(self, practice, clinicians: dict, rng: random.Random, writer: Writer):
        self.practice_id = practice.pk
        self.rng = rng
        self.w = writer
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.gps = [u.pk for u in clinicians["gps"]]
        self.nurses = [u.pk for u in clinicians["nurses"]] or self.gps
        self.concepts = dict(Concept.objects.values_list("code", "id"))
        self.long_history = False
        self.on_repeat: set[str] = set()

    def when(self, day: date) -> datetime:
        minutes = self.rng.randrange(8 * 60 + 30, 17 * 60 + 30)
        moment = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=UTC)
        return min(moment, self.now - timedelta(hours=1))

    def stamp(self, patient, day: date, by: int) -> dict:
        at = self.when(day)
        return {
            "id": uuid.uuid4(),
            "practice_id": self.practice_id,
            "patient_id": patient.pk,
            "occurred_at": at,
            "recorded_at": at + timedelta(minutes=self.rng.randrange(1, 20)),
            "recorded_by_id": by,
        }

    def fix_recorded(self, row):
        row.recorded_at = min(row.recorded_at, self.now)
        return row

    def add(self, obj):
        return self.w.add(self.fix_recorded(obj))

    # --- one patient --------------------------------------------------------------------------

    def patient(self, patient, long_history: bool) -> None:
        rng = self.rng
        age = patient.age_on(self.today)
        self.long_history = long_history
        self.on_repeat = set()
        years = LONG_HISTORY_YEARS if long_history else HISTORY_YEARS
        start = max(patient.date_of_birth, self.today - timedelta(days=365 * years))
        gp = patient.usual_gp_id or rng.choice(self.gps)
        conditions = self.conditions_for(patient, age, long_history)
        self.allergies(patient, start, gp)
        smoker = rng.random() < 0.14 if age >= 16 else False
        height = Decimal(rng.randint(150, 190)) if age >= 18 else None
        weight = Decimal(rng.randint(55, 110)) if age >= 18 else None
        for condition, onset in conditions:
            self.condition(patient, condition, max(onset, start), onset, gp, height, weight, smoker)
        if age >= 18 and rng.random() < 0.6:
            self.screening(patient, start, gp, height, weight, smoker)
        self.acute_episodes(
            patient, start, gp, 6 if long_history else rng.choice((0, 0, 1, 1, 2, 3))
        )
        if age >= 65 or conditions:
            self.flu_jabs(patient, start, age)
        if long_history:
            self.long_history_extras(patient, start, gp)
        if rng.random() < 0.01:
            self.add(
                new(
                    PatientFlag,
                    **self.stamp(patient, start, gp),
                    concept_id=self.concepts[rng.choice(FLAGS)],
                )
            )

    def conditions_for(self, patient, age: int, long_history: bool) -> list:
        chosen = []
        for c in CONDITIONS:
            if age < c.min_age or (c.female_only and patient.sex != "female"):
                continue
            share = (
                c.chance_at_40 + (c.chance_at_80 - c.chance_at_40) * max(0, min(age - 40, 40)) / 40
            )
            if long_history:
                share = min(1.0, share * 6 + 0.3)
            if self.rng.random() < share:
                earliest = patient.date_of_birth + timedelta(days=365 * max(c.min_age, 5))
                span = max(1, (self.today - earliest).days)
                chosen.append((c, earliest + timedelta(days=self.rng.randrange(span))))
        return chosen

    def allergies(self, patient, start: date, gp: int) -> None:
        found = False
        self.allergic_to = set()
        for substance, reaction, share in ALLERGIES:
            if self.rng.random() < share:
                found = True
                self.allergic_to.add(substance)
                self.add(
                    new(
                        Allergy,
                        **self.stamp(patient, start, gp),
                        substance_id=self.concepts[substance],
                        reaction_id=self.concepts[reaction],
                        severity=self.rng.choice(("mild", "moderate", "severe")),
                        certainty=self.rng.choice(("suspected", "confirmed", "confirmed")),
                    )
                )
        if not found and self.rng.random() < 0.6:
            self.add(new(NoKnownAllergies, **self.stamp(patient, start, gp)))

    def observation(
        self, patient, day, by, kind, value, value2=None, consultation=None, derived=False
    ):
        t = TYPES.get(kind)
        return self.add(
            new(
                Observation,
                **self.stamp(patient, day, by),
                consultation_id=consultation and consultation.id,
                kind=kind,
                concept_id=self.concepts[t.code],
                value=value,
                value2=value2,
                unit=t.unit,
                derived=derived,
            )
        )

    def measure(self, patient, day, by, kind, consultation, height, weight, smoker):
        rng = self.rng
        if kind == "bp":
            sys = rng.randint(118, 168)
            self.observation(
                patient,
                day,
                by,
                "bp",
                Decimal(sys),
                Decimal(rng.randint(68, min(100, sys - 30))),
                consultation,
            )
            self.observation(
                patient, day, by, "pulse", Decimal(rng.randint(58, 96)), None, consultation
            )
        elif kind == "weight" and weight is not None:
            w = weight + Decimal(rng.randint(-4, 4))
            self.observation(patient, day, by, "weight", w, None, consultation)
            self.observation(
                patient,
                day,
                by,
                "bmi",
                body_mass_index(w, height),
                None,
                consultation,
                derived=True,
            )
        elif kind == "hba1c":
            self.observation(
                patient, day, by, "hba1c", Decimal(rng.randint(44, 78)), None, consultation
            )
        elif kind == "egfr":
            self.observation(
                patient, day, by, "egfr", Decimal(rng.randint(38, 95)), None, consultation
            )
        elif kind == "cholesterol":
            self.observation(
                patient,
                day,
                by,
                "cholesterol",
                Decimal(rng.randint(30, 68)) / 10,
                None,
                consultation,
            )
        elif kind == "pulse":
            self.observation(
                patient, day, by, "pulse", Decimal(rng.randint(58, 96)), None, consultation
            )

    def consultation(self, patient, day, by, kind, history, plan, appointment_id=None):
        return self.add(
            new(
                Consultation,
                **self.stamp(patient, day, by),
                appointment_id=appointment_id,
                consultation_type=kind,
                history=history,
                plan=plan,
            )
        )

    def condition(self, patient, c: Condition, first_day, onset, gp, height, weight, smoker):
        rng = self.rng
        diagnosis = self.consultation(
            patient,
            first_day,
            gp,
            "face_to_face",
            f"Review of symptoms; diagnosis of {c.name.lower()}.",
            "Discussed diagnosis and treatment; leaflet given.",
        )
        problem = new(
            Problem,
            **self.stamp(patient, first_day, gp),
            concept_id=self.concepts[c.code],
            status="active",
            significance="major" if c.medicines else "minor",
            onset=onset,
        )
        problem.occurred_at, problem.recorded_at = diagnosis.occurred_at, diagnosis.recorded_at
        self.add(problem)
        self.w.add(
            new(Problem.consultations.through, problem_id=problem.id, consultation_id=diagnosis.id)
        )
        for vpid, dose, quantity in c.medicines:
            if vpid not in self.on_repeat:  # a statin for two conditions is one repeat
                self.on_repeat.add(vpid)
                self.repeats(patient, first_day, gp, vpid, dose, quantity, diagnosis)
        day = first_day + timedelta(days=rng.randint(150, 200))
        while day < self.today:
            nurse = rng.choice(self.nurses)
            review = self.consultation(
                patient,
                day,
                nurse,
                "face_to_face",
                f"{c.name} review. Feeling well; taking medicines.",
                "Continue; review in six months.",
            )
            self.w.add(
                new(Problem.consultations.through, problem_id=problem.id, consultation_id=review.id)
            )
            for kind in c.reviews:
                self.measure(patient, day, nurse, kind, review, height, weight, smoker)
            if smoker is not None and rng.random() < 0.3:
                status = "smoker" if smoker else rng.choice(("never", "ex_smoker"))
                self.add(
                    new(
                        Observation,
                        **self.stamp(patient, day, nurse),
                        consultation_id=review.id,
                        kind="smoking",
                        concept_id=self.concepts[SMOKING_STATUS[status]],
                    )
                )
            day += timedelta(days=rng.randint(150, 220))

    def repeats(self, patient, first_day, gp, vpid, dose, quantity, consultation) -> None:
        """A repeat re-authorised each year, issued every 28 days, or every 56 (double quantity)
        for most patients, as many practices do; fewer rows keep the demo quick to load."""
        rng, day = self.rng, first_day
        interval = 28 if self.long_history else 56
        quantity = quantity * interval // 28
        allowed = -(-365 // interval)
        concept_id = self.concepts[vpid]
        while day < self.today:
            end = day + timedelta(days=365)  # the review date; the current one is ahead
            med = new(
                Medication,
                **self.stamp(patient, day, gp),
                consultation_id=consultation and consultation.id,
                concept_id=concept_id,
                kind="repeat",
                dose=dose,
                quantity=quantity,
                quantity_unit=unit_of(dose),
                issues_allowed=allowed,
                issues_made=0,
                review_date=end,
            )
            consultation = None
            issues, issue_day = [], day
            while issue_day < min(end, self.today) and len(issues) < allowed:
                issues.append(
                    new(
                        MedicationIssue,
                        **self.stamp(patient, issue_day, gp),
                        medication_id=med.id,
                        number=len(issues) + 1,
                        quantity=quantity,
                    )
                )
                issue_day += timedelta(days=interval + rng.randint(-3, 5))
            med.issues_made = len(issues)
            if end < self.today:
                med.stopped_at = min(self.when(end), self.now)
                med.stopped_by_id = gp
                med.stop_reason = "Re-authorised at annual review"
            self.add(med)
            for issue in issues:
                self.add(issue)
            day = end + timedelta(days=1)

    def screening(self, patient, start, gp, height, weight, smoker) -> None:
        day = start + timedelta(days=self.rng.randrange(max(1, (self.today - start).days)))
        nurse = self.rng.choice(self.nurses)
        check = self.consultation(
            patient, day, nurse, "face_to_face", "Health check.", "Lifestyle advice given."
        )
        self.observation(patient, day, nurse, "height", height, None, check)
        self.measure(patient, day, nurse, "weight", check, height, weight, smoker)
        self.measure(patient, day, nurse, "bp", check, height, weight, smoker)
        status = "smoker" if smoker else self.rng.choice(("never", "never", "ex_smoker"))
        self.add(
            new(
                Observation,
                **self.stamp(patient, day, nurse),
                consultation_id=check.id,
                kind="smoking",
                concept_id=self.concepts[SMOKING_STATUS[status]],
            )
        )

    def acute_episodes(self, patient, start, gp, count: int) -> None:
        rng, span = self.rng, max(1, (self.today - start).days)
        for _ in range(count):
            day = start + timedelta(days=rng.randrange(span))
            allowed = [m for m in ACUTE_MEDICINES if m[4] not in self.allergic_to]
            vpid, dose, quantity, plan, _ = rng.choice(allowed)
            c = self.consultation(
                patient,
                day,
                gp,
                rng.choice(("face_to_face", "telephone", "telephone", "video")),
                "Unwell for a few days; no red flags.",
                plan,
            )
            med = new(
                Medication,
                **self.stamp(patient, day, gp),
                consultation_id=c.id,
                concept_id=self.concepts[vpid],
                kind="acute",
                dose=dose,
                quantity=quantity,
                quantity_unit=unit_of(dose),
                issues_made=1,
            )
            med.occurred_at, med.recorded_at = c.occurred_at, c.recorded_at
            self.add(med)
            self.add(
                new(
                    MedicationIssue,
                    **self.stamp(patient, day, gp),
                    medication_id=med.id,
                    number=1,
                    quantity=quantity,
                )
            )

    def flu_jabs(self, patient, start, age) -> None:
        year = start.year
        while date(year, 10, 15) < self.today:
            if date(year, 10, 15) >= start and self.rng.random() < 0.7:
                self.add(
                    new(
                        Immunisation,
                        **self.stamp(
                            patient,
                            date(year, 10, self.rng.randint(1, 28)),
                            self.rng.choice(self.nurses),
                        ),
                        vaccine_id=self.concepts[INFLUENZA_VACCINATION],
                        dose_number=1,
                        batch=f"FL{year % 100:02d}{self.rng.randint(1000, 9999)}",
                    )
                )
            year += 1

    def long_history_extras(self, patient, start, gp) -> None:
        """Monthly contact for twenty years: telephone reviews, letters' worth of bloods."""
        day = start
        while day < self.today:
            c = self.consultation(
                patient,
                day,
                gp,
                self.rng.choice(("telephone", "face_to_face")),
                "Follow-up of long-term conditions; symptoms stable.",
                "Continue current treatment.",
            )
            self.measure(patient, day, gp, "bp", c, None, None, None)
            day += timedelta(days=self.rng.randint(25, 35))

    def appointments(self, appointments) -> None:
        """A consultation for each finished past appointment, at its time, by its clinician."""
        for appt in appointments:
            slot = appt.slot
            reason = appt.reason or "Unwell"
            self.w.add(
                new(
                    Consultation,
                    id=uuid.uuid4(),
                    practice_id=self.practice_id,
                    patient_id=appt.patient_id,
                    occurred_at=slot.start,
                    recorded_at=min(slot.end, self.now),
                    recorded_by_id=slot.clinician_id,
                    appointment_id=appt.pk,
                    consultation_type="telephone"
                    if slot.delivery_mode == "telephone"
                    else "face_to_face",
                    history=f"{reason}. Symptoms discussed.",
                    plan="Advice given; return if worse.",
                )
            )


def load_histories(practice, clinicians: dict, patients: list, rng: random.Random) -> dict:
    """Histories for `patients` (Patient objects) and consultations for past appointments."""
    load_shipped_if_empty()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # random UUID keys: keep the indexes in memory
            cursor.execute("PRAGMA cache_size = -262144")
    writer = Writer()
    history = History(practice, clinicians, rng, writer)
    for patient in patients:
        history.patient(patient, long_history=rng.random() < LONG_HISTORY_SHARE)
    finished = (
        Appointment.objects.filter(practice=practice, status=AppointmentStatus.FINISHED)
        .select_related("slot")
        .only(
            "id",
            "patient_id",
            "reason",
            "slot__start",
            "slot__end",
            "slot__clinician_id",
            "slot__delivery_mode",
        )
    )
    history.appointments(finished.iterator(chunk_size=2000))
    writer.flush()
    return writer.counts
