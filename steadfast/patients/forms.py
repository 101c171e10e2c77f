import re
from datetime import date

from django import forms
from django.utils import timezone

from steadfast.forms import PlainMessages, ThreeFieldDateField
from steadfast.patients.models import Sex
from steadfast.patients.names import format_postcode, validate_visible_name
from steadfast.patients.nhs_numbers import normalise_nhs_number

SEARCH_MAX_CHARACTERS = 100


def search_text(raw: str) -> tuple[str, str]:
    """(what to search for, "") or ("", why not): a search longer than any name, NHS number,
    date and postcode together is refused with a message rather than run."""
    if len(raw) > SEARCH_MAX_CHARACTERS:
        return "", f"Search for {SEARCH_MAX_CHARACTERS} characters or less"
    return raw, ""


# A UK or international number: digits, spaces, brackets, dashes and a leading +; 10 to 15 digits.
PHONE = re.compile(r"^\+?[\d\s()-]+$")


def clean_phone_number(raw: str) -> str:
    raw = raw.strip()
    digits = re.sub(r"\D", "", raw)
    if raw and (not PHONE.match(raw) or not 10 <= len(digits) <= 15):
        raise forms.ValidationError(
            "Enter a phone number, like 0113 496 0000, 07700 900 982 or +44 7700 900 982"
        )
    return raw


class RegistrationForm(PlainMessages, forms.Form):
    label_optional = True
    nhs_number = forms.CharField(
        label="NHS number",
        max_length=12,
        required=False,
        help_text="10 digits, for example 943 476 5919. Leave blank if not known.",
    )
    title = forms.CharField(
        label="Title", max_length=20, required=False, validators=[validate_visible_name]
    )
    given_name = forms.CharField(
        label="First name",
        max_length=100,
        validators=[validate_visible_name],
        error_messages={"required": "Enter the first name"},
    )
    family_name = forms.CharField(
        label="Last name",
        max_length=100,
        validators=[validate_visible_name],
        error_messages={"required": "Enter the last name"},
    )
    date_of_birth = ThreeFieldDateField(
        label="Date of birth",
        help_text="For example, 24 11 1970",
        error_messages={"required": "Enter the date of birth"},
    )
    sex = forms.ChoiceField(
        label="Sex", choices=Sex.choices, error_messages={"required": "Select the patient's sex"}
    )
    address_line1 = forms.CharField(
        label="Address line 1",
        max_length=200,
        error_messages={"required": "Enter the first line of the address"},
    )
    address_line2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    town = forms.CharField(label="Town or city", max_length=100, required=False)
    postcode = forms.CharField(
        label="Postcode", max_length=10, error_messages={"required": "Enter the postcode"}
    )
    phone = forms.CharField(label="Phone", max_length=30, required=False)
    email = forms.EmailField(
        label="Email",
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

    def clean_phone(self) -> str:
        return clean_phone_number(self.cleaned_data["phone"])

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


class DetailsForm(RegistrationForm):
    """Correcting a registered patient's details (not their NHS number)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["nhs_number"]
        del self.fields["confirm_not_duplicate"]

    def patient_details(self) -> dict:
        return dict(self.cleaned_data)


class EndRegistrationForm(PlainMessages, forms.Form):
    what = forms.ChoiceField(
        label="What has happened?",
        choices=[("deducted", "They have left the practice"), ("died", "They have died")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what has happened"},
    )
    on = ThreeFieldDateField(
        label="Date",
        help_text="For example, 24 11 2026",
        error_messages={"required": "Enter the date"},
    )
    reason = forms.CharField(
        label="Reason for leaving",
        max_length=500,
        required=False,
        help_text="For example: moved away, registered with another practice",
    )

    def clean(self):
        data = super().clean()
        if data.get("what") == "deducted" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Enter the reason they left")
        return data
