"""Forms of the record screens: parse and check input; the services apply the rules."""

import copy

from django import forms

from steadfast.forms import PlainMessages, ThreeFieldDateField, WhenItHappened
from steadfast.records.models import (
    Certainty,
    ConsultationType,
    DocumentKind,
    MedicationKind,
    Severity,
    Significance,
)
from steadfast.records.observations import SMOKING_STATUS, impossible_reading

# Long enough for the longest note a clinician writes; short enough that a paste of a whole
# letter is refused with a message (attach it as a document instead).
NOTE_LIMIT = 10_000
SHORT_TEXT = 200

SMOKING_CHOICES = [("", "Not asked")] + [
    (k, label)
    for k, label in zip(SMOKING_STATUS, ["Smoker", "Ex-smoker", "Never smoked"], strict=True)
]


# The consultation form's readings, by field: what each measures.
READINGS = {
    "bp_systolic": "bp",
    "bp_diastolic": "bp",
    "pulse": "pulse",
    "weight": "weight",
    "height": "height",
    "temperature": "temperature",
}
PROBLEM_PARTS = ("q", "code", "significance")
MEDICINE_PARTS = ("kind", "dose", "quantity", "quantity_unit", "issues_allowed", "review_date")
MOST_BLOCKS = 10


def block_names(kind: str, count: int) -> list[str]:
    """`problem`, `problem2`, `problem3`...: the names of a form's repeated entries."""
    return [kind if n == 1 else f"{kind}{n}" for n in range(1, count + 1)]


def medicine_field_name(block: str, part: str) -> str:
    """The first medicine's fields keep their plain names (`dose`), the others are prefixed
    (`medicine2_dose`); its code and search are `medicine_code` and `medicine2_code` alike."""
    if part in ("q", "code", "kind"):
        return f"{block}_{part}"
    return part if block == "medicine" else f"{block}_{part}"


class MedicineBlocks:
    def medicine_block(self, block: str = "medicine") -> dict:
        """The bound fields of one medicine, by part: what _medicine_fields.jinja draws."""
        return {part: self[medicine_field_name(block, part)] for part in MEDICINE_PARTS}


class ConsultationForm(MedicineBlocks, PlainMessages, WhenItHappened):
    consultation_type = forms.ChoiceField(
        label="Type", choices=ConsultationType.choices, initial=ConsultationType.FACE_TO_FACE
    )
    history = forms.CharField(required=False, widget=forms.Textarea, max_length=NOTE_LIMIT)
    examination = forms.CharField(required=False, widget=forms.Textarea, max_length=NOTE_LIMIT)
    plan = forms.CharField(required=False, widget=forms.Textarea, max_length=NOTE_LIMIT)
    problem_q = forms.CharField(max_length=SHORT_TEXT, label="Problem", required=False)
    problem_code = forms.CharField(required=False, max_length=SHORT_TEXT)
    problem_significance = forms.ChoiceField(
        choices=Significance.choices, initial=Significance.MINOR, required=False
    )
    bp_systolic = forms.DecimalField(label="Systolic (mmHg)", required=False)
    bp_diastolic = forms.DecimalField(label="Diastolic (mmHg)", required=False)
    pulse = forms.DecimalField(label="Pulse (/min)", required=False)
    weight = forms.DecimalField(label="Weight (kg)", required=False)
    height = forms.DecimalField(label="Height (cm)", required=False)
    temperature = forms.DecimalField(label="Temperature (°C)", required=False)
    smoking = forms.ChoiceField(label="Smoking status", choices=SMOKING_CHOICES, required=False)
    medicine_q = forms.CharField(max_length=SHORT_TEXT, label="Medicine", required=False)
    medicine_code = forms.CharField(required=False, max_length=SHORT_TEXT)
    medicine_kind = forms.ChoiceField(
        label="Acute or repeat",
        choices=MedicationKind.choices,
        initial=MedicationKind.ACUTE,
        required=False,
    )
    dose = forms.CharField(required=False, max_length=200)
    quantity = forms.IntegerField(required=False, min_value=1)
    quantity_unit = forms.CharField(required=False, max_length=40, initial="tablet")
    issues_allowed = forms.IntegerField(label="Issues allowed", required=False, min_value=1)
    review_date = ThreeFieldDateField(label="Review date", required=False)
    allergy_confirmed = forms.BooleanField(required=False)
    allergy_reason = forms.CharField(
        label="Why are you prescribing it despite the allergy?", max_length=500, required=False
    )

    def __init__(self, *args, problems: int = 1, medicines: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.problem_blocks = block_names("problem", max(1, min(problems, MOST_BLOCKS)))
        self.medicine_blocks = block_names("medicine", max(1, min(medicines, MOST_BLOCKS)))
        for n, block in enumerate(self.problem_blocks[1:], start=2):
            for part in PROBLEM_PARTS:
                self.fields[f"{block}_{part}"] = self._copy(f"problem_{part}", f"problem {n}")
        for n, block in enumerate(self.medicine_blocks[1:], start=2):
            for part in ("q", "code", *MEDICINE_PARTS):
                name = medicine_field_name("medicine", part)
                self.fields[medicine_field_name(block, part)] = self._copy(name, f"medicine {n}")

    def _copy(self, name: str, which: str) -> forms.Field:
        """The first entry's field for another one, its label saying which ('Dose, medicine 2')."""
        field = copy.deepcopy(self.fields[name])
        label = str(field.label or name.replace("_", " ").capitalize())
        field.label = f"{label}, {which}"
        return field

    def clean(self):
        data = super().clean()
        if data.get("allergy_confirmed") and not (data.get("allergy_reason") or "").strip():
            self.add_error("allergy_reason", "Give the reason for prescribing despite the allergy")
        self._check_readings(data)
        return data

    def _check_readings(self, data) -> None:
        """Every impossible reading at its own field, so the summary lists them all at once."""
        for name, kind in READINGS.items():
            if message := impossible_reading(kind, data.get(name)):
                self.add_error(name, message)
        systolic, diastolic = data.get("bp_systolic"), data.get("bp_diastolic")
        if (systolic is None) != (diastolic is None):
            missing = "bp_diastolic" if diastolic is None else "bp_systolic"
            self.add_error(missing, "Blood pressure needs both systolic and diastolic.")
        elif systolic is not None and diastolic >= systolic and "bp_systolic" not in self.errors:
            self.add_error("bp_diastolic", "Systolic must be higher than diastolic.")


class EditConsultationForm(PlainMessages, forms.Form):
    consultation_type = forms.ChoiceField(label="Type", choices=ConsultationType.choices)
    history = forms.CharField(required=False, widget=forms.Textarea, max_length=NOTE_LIMIT)
    examination = forms.CharField(required=False, widget=forms.Textarea, max_length=NOTE_LIMIT)
    plan = forms.CharField(required=False, widget=forms.Textarea, max_length=NOTE_LIMIT)
    reason = forms.CharField(label="Why are you changing it?", max_length=500)
    version = forms.IntegerField(widget=forms.HiddenInput)


class PrescribeForm(MedicineBlocks, PlainMessages, WhenItHappened):
    medicine_q = forms.CharField(max_length=SHORT_TEXT, label="Medicine", required=False)
    medicine_code = forms.CharField(required=False, max_length=SHORT_TEXT)
    medicine_kind = forms.ChoiceField(label="Acute or repeat", choices=MedicationKind.choices)
    dose = forms.CharField(max_length=200)
    quantity = forms.IntegerField(min_value=1)
    quantity_unit = forms.CharField(max_length=40, initial="tablet")
    issues_allowed = forms.IntegerField(label="Issues allowed", required=False, min_value=1)
    review_date = ThreeFieldDateField(label="Review date", required=False)
    allergy_confirmed = forms.BooleanField(required=False)
    allergy_reason = forms.CharField(
        label="Why are you prescribing it despite the allergy?", max_length=500, required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("allergy_confirmed") and not (data.get("allergy_reason") or "").strip():
            self.add_error("allergy_reason", "Give the reason for prescribing despite the allergy")
        return data


class StopForm(PlainMessages, forms.Form):
    medication = forms.UUIDField(widget=forms.HiddenInput)
    reason = forms.CharField(max_length=500)


class AllergyForm(PlainMessages, forms.Form):
    substance_q = forms.CharField(max_length=SHORT_TEXT, label="Substance", required=False)
    substance_code = forms.CharField(required=False, max_length=SHORT_TEXT)
    reaction = forms.CharField(required=False, max_length=SHORT_TEXT)
    severity = forms.ChoiceField(choices=Severity.choices)
    certainty = forms.ChoiceField(choices=Certainty.choices)
    note = forms.CharField(required=False, max_length=500)


class DocumentForm(PlainMessages, forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=DocumentKind.choices)
    file = forms.FileField(label="File (PDF, PNG or JPEG)")


class FlagForm(PlainMessages, forms.Form):
    flag = forms.CharField(max_length=SHORT_TEXT)
    note = forms.CharField(required=False, max_length=200)
