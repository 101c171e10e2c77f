"""The second-factor code form: a service checks the code, this turns refusals into messages."""

import re

from django import forms

from steadfast.accounts import services


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
