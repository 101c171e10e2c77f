"""The rota page's form: one weekly session of a clinician."""

from django import forms

from steadfast.forms import PlainMessages, ThreeFieldDateField
from steadfast.practices.models import DeliveryMode, NationalSlotCategory, ReservedFor, SlotType

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class SessionForm(PlainMessages, forms.Form):
    label_optional = True
    clinician = forms.TypedChoiceField(label="Clinician", coerce=int)
    weekday = forms.TypedChoiceField(
        label="Day of the week", coerce=int, choices=list(enumerate(WEEKDAYS))
    )
    start_time = forms.TimeField(
        label="Starts", help_text="For example, 08:30", widget=forms.TimeInput(format="%H:%M")
    )
    end_time = forms.TimeField(
        label="Ends", help_text="For example, 12:00", widget=forms.TimeInput(format="%H:%M")
    )
    slot_minutes = forms.IntegerField(label="Slot length in minutes", min_value=5, max_value=120)
    slot_type = forms.ChoiceField(label="Slot type", choices=SlotType.choices)
    delivery_mode = forms.ChoiceField(
        label="Face to face, phone or video", choices=DeliveryMode.choices
    )
    reserved_for = forms.ChoiceField(label="Kept for", choices=ReservedFor.choices, required=False)
    release_time = forms.TimeField(
        label="Released at",
        required=False,
        help_text="Embargoed until this time on the day, for example 08:00",
        widget=forms.TimeInput(format="%H:%M"),
    )
    valid_from = ThreeFieldDateField(label="Valid from", required=False)
    valid_until = ThreeFieldDateField(label="Valid until", required=False)
    national_category = forms.ChoiceField(
        label="National slot category",
        choices=NationalSlotCategory.choices,
        help_text="As NHS England's GP appointment data counts it",
    )

    def __init__(self, *args, clinicians, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].choices = [(c.pk, c.display_name) for c in clinicians]
        self._clinicians = {c.pk: c for c in clinicians}

    def clean_clinician(self):
        return self._clinicians[self.cleaned_data["clinician"]]
