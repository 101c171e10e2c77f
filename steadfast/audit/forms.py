from django import forms

from steadfast.forms import PlainMessages, ThreeFieldDateField
from steadfast.navigation import FIRST_DAY, LAST_DAY


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label="Why do you need to open this record?",
        max_length=500,
        min_length=10,
        help_text="This is recorded, and the practice manager is told.",
        error_messages={
            "required": "Enter why you need to open this record",
            "min_length": "Give a little more detail: at least 10 characters",
        },
    )


class AuditSearchForm(PlainMessages, forms.Form):
    nhs_number = forms.CharField(label="Patient's NHS number", required=False, max_length=12)
    username = forms.CharField(label="Staff username", required=False, max_length=150)
    # Within the dates pages show: the end of Python's calendar overflowed the day's bounds.
    first_day = ThreeFieldDateField(
        label="From", required=False, earliest=FIRST_DAY, latest=LAST_DAY
    )
    last_day = ThreeFieldDateField(label="To", required=False, earliest=FIRST_DAY, latest=LAST_DAY)

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first and last and first > last:
            self.add_error("last_day", "To must be the same as or after From")
        return data
