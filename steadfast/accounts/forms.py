"""The second-factor code form: a service checks the code, this turns refusals into messages."""

import re

from django import forms

from steadfast.accounts import services
from steadfast.forms import PlainMessages


class SecurityCodeForm(forms.Form):
    code = forms.CharField(
        label="Security code",
        help_text="The 6-digit code your authenticator app shows now",
        max_length=20,
        error_messages={"required": "Enter the 6-digit code from your authenticator app"},
    )

    def __init__(self, *args, user, devices, confirm=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.devices, self.confirm = user, devices, confirm
        self.device = None

    def clean_code(self) -> str:
        code = re.sub(r"[\s-]", "", self.cleaned_data["code"])
        if not re.fullmatch(r"\d{6}", code):
            raise forms.ValidationError("Enter the 6-digit code from your authenticator app")
        try:
            if self.confirm:
                self.device = services.confirm_authenticator(self.user, self.devices[0], code)
            else:
                self.device = services.check_code(self.user, self.devices, code)
        except services.TooManyWrongCodes as exc:
            wait = f"{exc.wait_seconds} second{'' if exc.wait_seconds == 1 else 's'}"
            raise forms.ValidationError(
                f"Too many wrong codes. Wait {wait}, then enter the code your app shows."
            ) from exc
        except services.WrongCode as exc:
            raise forms.ValidationError(
                "That code is not right. Enter the code your authenticator app shows now."
            ) from exc
        return code


class NewStaffForm(PlainMessages, forms.Form):
    label_optional = True
    title = forms.CharField(label="Title", max_length=20, required=False, help_text="Dr, Nurse")
    first_name = forms.CharField(
        label="First name", max_length=150, error_messages={"required": "Enter the first name"}
    )
    last_name = forms.CharField(
        label="Last name", max_length=150, error_messages={"required": "Enter the last name"}
    )
    username = forms.RegexField(
        label="Username",
        max_length=150,
        regex=r"^[\w.@+-]+$",
        help_text="What they sign in with: letters, digits and . @ + - _",
        error_messages={
            "required": "Enter a username",
            "invalid": "A username has only letters, digits and . @ + - _",
        },
    )
    role = forms.ChoiceField(
        label="Role", choices=[], error_messages={"required": "Choose their role"}
    )

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in roles]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="New role", choices=[])

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in roles]
