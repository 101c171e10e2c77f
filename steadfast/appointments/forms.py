from django import forms

from steadfast.appointments.models import AppointmentStatus, CancelledBy
from steadfast.forms import WhenItHappened
from steadfast.practices.models import SlotType


class BookForm(forms.Form):
    patient = forms.UUIDField(widget=forms.HiddenInput)
    # Made when the page is drawn, sent again if the person retries: the booking is made once.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label="Reason for appointment",
        max_length=500,
        required=False,
        help_text="What the patient told you, in a few words",
    )
    # Set when reception has seen the warning that the slot is kept for another kind of visit.
    type_confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class CancelForm(forms.Form):
    cancelled_by = forms.ChoiceField(
        label="Who is cancelling?",
        choices=CancelledBy.choices,
        error_messages={"required": "Select who is cancelling the appointment"},
    )
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        error_messages={"required": "Enter the reason for cancelling"},
    )


class RescheduleForm(forms.Form):
    slot = forms.UUIDField(
        error_messages={"required": "Choose a new slot", "invalid": "Choose a new slot"}
    )


class StatusForm(WhenItHappened):
    to_status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in AppointmentStatus if s != AppointmentStatus.CANCELLED],
        error_messages={
            "required": "Choose what happened",
            "invalid_choice": "Choose what happened",
        },
    )


def _clinician_choices(clinicians) -> list[tuple[str, str]]:
    return [("", "Everyone")] + [(str(c.pk), c.display_name) for c in clinicians]


class DayFilterForm(forms.Form):
    """The day view narrowed to one clinician or one type of slot."""

    clinician = forms.TypedChoiceField(label="Clinician", required=False, coerce=int)
    slot_type = forms.ChoiceField(
        label="Slot type", required=False, choices=[("", "Any type"), *SlotType.choices]
    )

    def __init__(self, data, clinicians):
        super().__init__(data)
        self.fields["clinician"].choices = _clinician_choices(clinicians)

    def chosen(self) -> dict:
        """The filters to apply: none for a value not on offer."""
        if not self.is_valid():
            return {"clinician_id": None, "slot_type": ""}
        return {
            "clinician_id": self.cleaned_data["clinician"] or None,
            "slot_type": self.cleaned_data["slot_type"],
        }


class ArrivalsFilterForm(forms.Form):
    """Arrivals narrowed to one clinician, a name, and (by default) those still expected."""

    clinician = forms.TypedChoiceField(label="Clinician", required=False, coerce=int)
    name = forms.CharField(label="Patient's name", required=False, max_length=100)
    show = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[("expected", "Still expected"), ("everyone", "Everyone today")],
    )

    def __init__(self, data, clinicians):
        super().__init__(data)
        self.fields["clinician"].choices = _clinician_choices(clinicians)

    def chosen(self) -> dict:
        if not self.is_valid():
            return {"clinician_id": None, "name": "", "everyone": False}
        return {
            "clinician_id": self.cleaned_data["clinician"] or None,
            "name": self.cleaned_data["name"],
            "everyone": self.cleaned_data["show"] == "everyone",
        }
