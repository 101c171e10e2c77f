"""Forms of the record screens: parse and check input; the services apply the rules."""

from django import forms

from steadfast.records.models import (
    Certainty,
    ConsultationType,
    DocumentKind,
    MedicationKind,
    Severity,
    Significance,
)
from steadfast.records.observations import SMOKING_STATUS

SMOKING_CHOICES = [("", "Not asked")] + [
    (k, label)
    for k, label in zip(SMOKING_STATUS, ["Smoker", "Ex-smoker", "Never smoked"], strict=True)
]


class ConsultationForm(forms.Form):
    consultation_type = forms.ChoiceField(
        label="Type", choices=ConsultationType.choices, initial=ConsultationType.FACE_TO_FACE
    )
    history = forms.CharField(required=False, widget=forms.Textarea)
    examination = forms.CharField(required=False, widget=forms.Textarea)
    plan = forms.CharField(required=False, widget=forms.Textarea)
    problem_q = forms.CharField(label="Problem", required=False)
    problem_code = forms.CharField(required=False)
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
    medicine_q = forms.CharField(label="Medicine", required=False)
    medicine_code = forms.CharField(required=False)
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
    review_date = forms.DateField(label="Review date", required=False)
    allergy_confirmed = forms.BooleanField(required=False)


class EditConsultationForm(forms.Form):
    consultation_type = forms.ChoiceField(label="Type", choices=ConsultationType.choices)
    history = forms.CharField(required=False, widget=forms.Textarea)
    examination = forms.CharField(required=False, widget=forms.Textarea)
    plan = forms.CharField(required=False, widget=forms.Textarea)
    reason = forms.CharField(label="Why are you changing it?", max_length=500)
    version = forms.IntegerField(widget=forms.HiddenInput)


class PrescribeForm(forms.Form):
    medicine_q = forms.CharField(label="Medicine", required=False)
    medicine_code = forms.CharField(required=False)
    medicine_kind = forms.ChoiceField(label="Acute or repeat", choices=MedicationKind.choices)
    dose = forms.CharField(max_length=200)
    quantity = forms.IntegerField(min_value=1)
    quantity_unit = forms.CharField(max_length=40, initial="tablet")
    issues_allowed = forms.IntegerField(label="Issues allowed", required=False, min_value=1)
    review_date = forms.DateField(label="Review date", required=False)
    allergy_confirmed = forms.BooleanField(required=False)


class StopForm(forms.Form):
    medication = forms.UUIDField(widget=forms.HiddenInput)
    reason = forms.CharField(max_length=500)


class AllergyForm(forms.Form):
    substance_q = forms.CharField(label="Substance", required=False)
    substance_code = forms.CharField(required=False)
    reaction = forms.CharField(required=False)
    severity = forms.ChoiceField(choices=Severity.choices)
    certainty = forms.ChoiceField(choices=Certainty.choices)
    note = forms.CharField(required=False, max_length=500)


class DocumentForm(forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=DocumentKind.choices)
    file = forms.FileField(label="File (PDF, PNG or JPEG)")


class FlagForm(forms.Form):
    flag = forms.CharField()
    note = forms.CharField(required=False, max_length=200)
