from datetime import date

from django import forms
from django.utils import timezone

from steadfast.patients.models import Sex
from steadfast.patients.names import format_postcode
from steadfast.patients.nhs_numbers import normalise_nhs_number


class RegistrationForm(forms.Form):
    nhs_number = forms.CharField(
        label="NHS number",
        max_length=12,
        required=False,
        help_text="10 digits, for example 943 476 5919. Leave blank if not known.",
    )
    title = forms.CharField(label="Title (optional)", max_length=20, required=False)
    given_name = forms.CharField(
        label="First name", max_length=100, error_messages={"required": "Enter the first name"}
    )
    family_name = forms.CharField(
        label="Last name", max_length=100, error_messages={"required": "Enter the last name"}
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        help_text="For example, 24/11/1970",
        input_formats=["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d", "%d %b %Y", "%d %B %Y"],
        error_messages={
            "required": "Enter the date of birth",
            "invalid": "Enter a real date of birth, for example 24/11/1970",
        },
    )
    sex = forms.ChoiceField(
        label="Sex", choices=Sex.choices, error_messages={"required": "Select the patient's sex"}
    )
    address_line1 = forms.CharField(
        label="Address line 1",
        max_length=200,
        error_messages={"required": "Enter the first line of the address"},
    )
    address_line2 = forms.CharField(
        label="Address line 2 (optional)", max_length=200, required=False
    )
    town = forms.CharField(label="Town or city", max_length=100, required=False)
    postcode = forms.CharField(
        label="Postcode", max_length=10, error_messages={"required": "Enter the postcode"}
    )
    phone = forms.CharField(label="Phone (optional)", max_length=30, required=False)
    email = forms.EmailField(
        label="Email (optional)",
        required=False,
        error_messages={"invalid": "Enter an email address like name@example.com"},
    )
    usual_gp = forms.ChoiceField(label="Usual GP", required=False)
    confirm_not_duplicate = forms.BooleanField(required=False)

    def __init__(self, *args, gps=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["usual_gp"].choices = [("", "No preference")] + [
            (str(gp.pk), gp.display_name) for gp in gps
        ]
        self._gps = {str(gp.pk): gp for gp in gps}

    def clean_nhs_number(self) -> str | None:
        raw = self.cleaned_data["nhs_number"].strip()
        if not raw:
            return None
        number = normalise_nhs_number(raw)
        if not number:
            raise forms.ValidationError(
                "Enter a valid NHS number: 10 digits, and the last digit must match the check digit"
            )
        return number

    def clean_date_of_birth(self) -> date:
        dob = self.cleaned_data["date_of_birth"]
        if dob > timezone.localdate():
            raise forms.ValidationError("Date of birth must be today or in the past")
        if dob.year < 1890:
            raise forms.ValidationError("Enter a date of birth after 1890")
        return dob

    def clean_postcode(self) -> str:
        postcode = format_postcode(self.cleaned_data["postcode"])
        if not postcode:
            raise forms.ValidationError("Enter a full UK postcode, like LS1 4AP")
        return postcode

    def clean_usual_gp(self):
        return self._gps.get(self.cleaned_data["usual_gp"])

    def patient_details(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("confirm_not_duplicate")
        return data
