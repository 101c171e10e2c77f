"""The patient record: consultations and the coded entries made in them.

Every entry keeps when it happened (occurred_at), when it reached the system (recorded_at), who
recorded it and whether it was entered retrospectively. Codes are real SNOMED CT and dm+d ids
held in Concept, loaded from the shipped GP subset or a licensed release.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django_scopes import ScopedManager


class CodeSystem(models.TextChoices):
    SNOMED = "snomed", "SNOMED CT"
    DMD = "dmd", "dm+d"


class ConceptUse(models.TextChoices):
    PROBLEM = "problem", "Problem"
    FINDING = "finding", "Finding"
    OBSERVABLE = "observable", "Observable"
    ALLERGEN = "allergen", "Allergen"
    REACTION = "reaction", "Reaction"
    PROCEDURE = "procedure", "Procedure"
    VACCINATION = "vaccination", "Vaccination"
    FLAG = "flag", "Flag"
    MEDICINE = "medicine", "Medicine"
    NO_ALLERGY = "no_allergy", "No known allergy statement"


class Concept(models.Model):
    """One code a clinician can pick: a SNOMED CT concept or a dm+d VMP (reference data)."""

    system = models.CharField(max_length=6, choices=CodeSystem)
    code = models.CharField(max_length=18)
    term = models.CharField(max_length=255)
    # Lower-cased term with a leading space, so " word" finds a word start anywhere in it.
    search_key = models.CharField(max_length=256, editable=False)
    semantic_tag = models.CharField(max_length=60, blank=True)
    use = models.CharField(max_length=12, choices=ConceptUse)
    route = models.CharField(max_length=40, blank=True)
    allergy_class = models.CharField(
        max_length=18, blank=True, help_text="SNOMED CT allergen concept of the drug's class"
    )

    class Meta:
        ordering = ["term"]
        constraints = [
            models.UniqueConstraint(fields=["system", "code"], name="one_concept_per_code"),
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{6,18}$"), name="concept_id"),
        ]
        indexes = [
            models.Index(fields=["use", "search_key"], name="concept_search"),
            models.Index(fields=["code"], name="concept_code"),
        ]

    def __str__(self) -> str:
        return f"{self.term} ({self.code})"

    def save(self, *args, **kwargs) -> None:
        self.search_key = search_key(self.term)
        super().save(*args, **kwargs)


# GP2GP "record artifact" codes for an allergy the sending system could not code: the original
# text travels beside them (UK Core AllergyIntolerance examples).
TRANSFER_DEGRADED_DRUG_ALLERGY = "196461000000101"
TRANSFER_DEGRADED_NON_DRUG_ALLERGY = "196471000000108"
TRANSFER_DEGRADED = {TRANSFER_DEGRADED_DRUG_ALLERGY, TRANSFER_DEGRADED_NON_DRUG_ALLERGY}


class MappingKind(models.TextChoices):
    AMP_OF_VMP = "amp", "dm+d AMP of the VMP"
    PREVIOUS_VPID = "vpidprev", "dm+d previous id of the VMP"
    VACCINE_PRODUCT = "vaccine", "dm+d vaccine product given in the vaccination"


class CodeMapping(models.Model):
    """A received code that is not picked here but stands for a Concept that is: a dm+d AMP for
    its VMP, a VMP's previous id, a vaccine product for its vaccination (reference data)."""

    system = models.CharField(max_length=6, choices=CodeSystem)
    code = models.CharField(max_length=18)
    term = models.CharField(max_length=255)
    kind = models.CharField(max_length=8, choices=MappingKind)
    concept = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "code"], name="one_mapping_per_code"),
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{6,18}$"), name="mapping_id"),
        ]

    def __str__(self) -> str:
        return f"{self.code} -> {self.concept.code}"


def search_key(term: str) -> str:
    return " " + " ".join(term.lower().replace("-", " ").replace(",", " ").split())


class Entry(models.Model):
    """What every record entry has: whose, when it happened, when and by whom recorded."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(help_text="When it happened")
    recorded_at = models.DateTimeField(help_text="When it reached this system")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    retrospective = models.BooleanField(
        default=False, help_text="Entered after the event, e.g. from paper during an outage"
    )
    entered_via = models.CharField(
        max_length=100, blank=True, help_text="Where it was made, e.g. a node during downtime"
    )
    as_received = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="The FHIR resource as another system sent it (received entries only): its"
        " codings and extensions are given back as sent",
    )

    objects = ScopedManager(practice="practice")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"  # never clinical text: str() reaches logs


def _entry_meta(name: str, extra_constraints=(), extra_indexes=()) -> tuple[list, list]:
    """Constraints and the (patient, occurred_at) index every entry table has."""
    return (
        [
            models.CheckConstraint(
                condition=Q(occurred_at__lte=F("recorded_at")), name=f"{name}_not_in_future"
            ),
            *extra_constraints,
        ],
        [
            models.Index(fields=["patient", "-occurred_at", "-id"], name=f"{name}_journal"),
            *extra_indexes,
        ],
    )


class ConsultationType(models.TextChoices):
    FACE_TO_FACE = "face_to_face", "Face to face"
    TELEPHONE = "telephone", "Telephone"
    VIDEO = "video", "Video"
    HOME_VISIT = "home_visit", "Home visit"


class Consultation(Entry):
    appointment = models.ForeignKey(
        "appointments.Appointment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    consultation_type = models.CharField(max_length=12, choices=ConsultationType)
    history = models.TextField(blank=True)
    examination = models.TextField(blank=True)
    plan = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints, indexes = _entry_meta(
            "consultation",
            [
                models.UniqueConstraint(
                    fields=["appointment"],
                    condition=Q(appointment__isnull=False),
                    name="one_consultation_per_appointment",
                ),
                models.CheckConstraint(
                    condition=~Q(history="", examination="", plan=""),
                    name="consultation_has_text",
                ),
            ],
        )


class ConsultationVersion(models.Model):
    """A consultation's text as it stood before an edit, and who replaced it, when and why."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    consultation = models.ForeignKey(
        Consultation, on_delete=models.PROTECT, related_name="versions"
    )
    version = models.PositiveIntegerField()
    consultation_type = models.CharField(max_length=12, choices=ConsultationType)
    history = models.TextField(blank=True)
    examination = models.TextField(blank=True)
    plan = models.TextField(blank=True)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField()
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    replaced_at = models.DateTimeField()
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["version"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "version"], name="one_row_per_version"),
            models.CheckConstraint(condition=~Q(reason=""), name="edit_says_why"),
        ]


class ProblemStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAST = "past", "Past"


class Significance(models.TextChoices):
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"


class Problem(Entry):
    concept = models.ForeignKey(Concept, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=6, choices=ProblemStatus, default=ProblemStatus.ACTIVE)
    significance = models.CharField(max_length=5, choices=Significance, default=Significance.MINOR)
    onset = models.DateField(null=True, blank=True, help_text="Blank when the sender did not say")
    ended = models.DateField(null=True, blank=True)
    consultations = models.ManyToManyField(Consultation, blank=True, related_name="problems")

    class Meta:
        ordering = ["-occurred_at"]
        constraints, indexes = _entry_meta(
            "problem",
            [
                models.CheckConstraint(
                    condition=Q(ended__isnull=True) | Q(ended__gte=F("onset")),
                    name="problem_ends_after_onset",
                ),
                models.CheckConstraint(
                    condition=Q(status="past") | Q(ended__isnull=True),
                    name="active_problem_has_not_ended",
                ),
            ],
            [models.Index(fields=["patient", "status"], name="problem_status")],
        )


class MedicationKind(models.TextChoices):
    ACUTE = "acute", "Acute"
    REPEAT = "repeat", "Repeat"


class Medication(Entry):
    """A prescribed medicine; for a repeat, also the template each issue follows."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.PROTECT, null=True, blank=True, related_name="medications"
    )
    concept = models.ForeignKey(Concept, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=6, choices=MedicationKind)
    dose = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Blank only for history received without one"
    )
    quantity_unit = models.CharField(max_length=40, default="tablet")
    route = models.CharField(max_length=40, blank=True)
    issues_allowed = models.PositiveIntegerField(null=True, blank=True)
    issues_made = models.PositiveIntegerField(default=0)
    review_date = models.DateField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    stop_reason = models.CharField(max_length=500, blank=True)
    allergy_override = models.CharField(
        max_length=800,
        blank=True,
        help_text="Prescribed despite a recorded allergy: which, and the prescriber's reason",
    )

    class Meta:
        ordering = ["-occurred_at"]
        constraints, indexes = _entry_meta(
            "medication",
            [
                models.CheckConstraint(
                    condition=Q(quantity__isnull=False, quantity__gt=0)
                    | Q(quantity__isnull=True, as_received__isnull=False),
                    name="medication_quantity",
                ),
                models.CheckConstraint(
                    condition=Q(kind="acute")
                    | Q(issues_allowed__isnull=False, issues_allowed__gt=0),
                    name="repeat_has_issues_allowed",
                ),
                models.CheckConstraint(
                    condition=Q(issues_allowed__isnull=True)
                    | Q(issues_made__lte=F("issues_allowed")),
                    name="no_more_issues_than_allowed",
                ),
                models.CheckConstraint(
                    condition=Q(stopped_at__isnull=True) | ~Q(stop_reason=""),
                    name="stop_says_why",
                ),
            ],
            [models.Index(fields=["patient", "stopped_at"], name="medication_current")],
        )

    @property
    def is_current(self) -> bool:
        return self.stopped_at is None


class MedicationIssue(Entry):
    medication = models.ForeignKey(Medication, on_delete=models.PROTECT, related_name="issues")
    number = models.PositiveIntegerField()
    quantity = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints, indexes = _entry_meta(
            "issue",
            [models.UniqueConstraint(fields=["medication", "number"], name="one_issue_number")],
        )


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class Certainty(models.TextChoices):
    SUSPECTED = "suspected", "Suspected"
    CONFIRMED = "confirmed", "Confirmed"


class Allergy(Entry):
    """An allergy or adverse reaction to a substance (or class of drugs)."""

    substance = models.ForeignKey(Concept, on_delete=models.PROTECT, related_name="+")
    reaction = models.ForeignKey(
        Concept, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reaction_text = models.CharField(
        max_length=200, blank=True, help_text="A received reaction whose code is not held here"
    )
    severity = models.CharField(max_length=8, choices=Severity)
    certainty = models.CharField(max_length=9, choices=Certainty)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name_plural = "allergies"
        constraints, indexes = _entry_meta("allergy")

    @property
    def description(self) -> str:
        """The substance; for a GP2GP transfer-degraded allergy, also the text that was sent."""
        sent = ((self.as_received or {}).get("code") or {}).get("text") or ""
        if self.substance.code in TRANSFER_DEGRADED and sent:
            return f"{self.substance.term}: {sent}"
        return self.substance.term

    @property
    def reaction_description(self) -> str:
        return self.reaction.term if self.reaction_id else self.reaction_text


class NoKnownAllergies(Entry):
    """The clinician asked and the patient has no known allergies: a recorded statement.

    It stands until an allergy is recorded after it; no row at all means "not recorded". A
    statement with a concept says exactly that, e.g. 409137002 No known drug allergy.
    """

    concept = models.ForeignKey(
        Concept, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-occurred_at"]
        constraints, indexes = _entry_meta("nka")

    @property
    def label(self) -> str:
        return self.concept.term if self.concept_id else "No known allergies"


class ObservationKind(models.TextChoices):
    BLOOD_PRESSURE = "bp", "Blood pressure"
    PULSE = "pulse", "Pulse"
    WEIGHT = "weight", "Weight"
    HEIGHT = "height", "Height"
    BMI = "bmi", "BMI"
    TEMPERATURE = "temperature", "Temperature"
    HBA1C = "hba1c", "HbA1c"
    EGFR = "egfr", "eGFR"
    CHOLESTEROL = "cholesterol", "Total cholesterol"
    SMOKING = "smoking", "Smoking status"
    OXYGEN_SATURATION = "spo2", "Oxygen saturation"
    RESPIRATORY_RATE = "resp_rate", "Respiratory rate"
    HEAD_CIRCUMFERENCE = "head_circ", "Head circumference"


class Observation(Entry):
    """A measurement (value and unit) or a coded finding such as smoking status.

    Blood pressure is one row holding the systolic (value) and diastolic (value2) pair; BMI
    rows are derived from a weight and height and say so.
    """

    consultation = models.ForeignKey(
        Consultation, on_delete=models.PROTECT, null=True, blank=True, related_name="observations"
    )
    kind = models.CharField(max_length=12, choices=ObservationKind)
    concept = models.ForeignKey(Concept, on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    value2 = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    derived = models.BooleanField(default=False)

    class Meta:
        ordering = ["-occurred_at"]
        constraints, indexes = _entry_meta(
            "observation",
            [
                models.CheckConstraint(
                    condition=Q(kind="smoking") | Q(value__isnull=False),
                    name="measurement_has_value",
                ),
                models.CheckConstraint(
                    condition=(Q(kind="bp") & Q(value2__isnull=False))
                    | (~Q(kind="bp") & Q(value2__isnull=True)),
                    name="blood_pressure_is_a_pair",
                ),
            ],
            [models.Index(fields=["patient", "kind", "-occurred_at"], name="observation_series")],
        )


class Immunisation(Entry):
    consultation = models.ForeignKey(
        Consultation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    vaccine = models.ForeignKey(Concept, on_delete=models.PROTECT, related_name="+")
    dose_number = models.PositiveSmallIntegerField(default=1)
    batch = models.CharField(max_length=40)

    class Meta:
        ordering = ["-occurred_at"]
        constraints, indexes = _entry_meta(
            "immunisation",
            [
                models.CheckConstraint(
                    condition=~Q(batch="") | Q(as_received__isnull=False),
                    name="immunisation_has_batch",
                )
            ],
        )


class DocumentKind(models.TextChoices):
    LETTER = "letter", "Letter"
    RESULT = "result", "Result"
    OTHER = "other", "Other"


class Document(Entry):
    """A letter or result kept as the file received (PDF or image), with its SHA-256.

    The bytes live in the database so a backup of the database is a backup of the record.
    """

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=6, choices=DocumentKind, default=DocumentKind.LETTER)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()

    class Meta:
        ordering = ["-occurred_at"]
        constraints, indexes = _entry_meta(
            "document",
            [
                models.CheckConstraint(
                    condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="document_sha256"
                ),
                models.CheckConstraint(
                    condition=Q(content_type__in=["application/pdf", "image/png", "image/jpeg"]),
                    name="document_type",
                ),
            ],
        )


class PatientFlag(Entry):
    """An alert shown on the banner, e.g. safeguarding concern or needs an interpreter."""

    concept = models.ForeignKey(Concept, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=200, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints, indexes = _entry_meta("flag")
