from django import forms

from steadfast.appointments.models import AppointmentStatus, CancelledBy


class BookForm(forms.Form):
    patient = forms.UUIDField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Reason for appointment",
        max_length=500,
        required=False,
        help_text="What the patient told you, in a few words",
    )


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


class StatusForm(forms.Form):
    to_status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in AppointmentStatus if s != AppointmentStatus.CANCELLED]
    )
