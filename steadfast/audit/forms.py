from django import forms


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


class AuditSearchForm(forms.Form):
    nhs_number = forms.CharField(label="Patient's NHS number", required=False, max_length=12)
    username = forms.CharField(label="Staff username", required=False, max_length=150)
    first_day = forms.DateField(
        label="From", required=False, widget=forms.DateInput({"type": "date"})
    )
    last_day = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))
