from django import forms
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError

from steadfast.continuity.services import MIN_PASSPHRASE_LENGTH


class DowntimePassphraseForm(forms.Form):
    passphrase = forms.CharField(
        label="New downtime passphrase",
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text=f"At least {MIN_PASSPHRASE_LENGTH} characters. A few unrelated words are easy "
        "to read out over the phone and hard to guess.",
        error_messages={"required": "Enter the new downtime passphrase"},
    )
    confirm = forms.CharField(
        label="Type it again",
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        error_messages={"required": "Type the passphrase again"},
    )

    def clean_passphrase(self) -> str:
        passphrase = self.cleaned_data["passphrase"]
        if len(passphrase) < MIN_PASSPHRASE_LENGTH:
            raise ValidationError(
                f"Make the passphrase at least {MIN_PASSPHRASE_LENGTH} characters long"
            )
        if passphrase != passphrase.strip():
            raise ValidationError("Take the spaces off the start and end of the passphrase")
        try:
            CommonPasswordValidator().validate(passphrase)
        except ValidationError as exc:
            raise ValidationError("That passphrase is too common: choose another") from exc
        return passphrase

    def clean(self):
        data = super().clean()
        if data.get("passphrase") and data.get("confirm") and data["passphrase"] != data["confirm"]:
            self.add_error("confirm", "The two passphrases are different: type them again")
        return data

    def forget_typed(self) -> None:
        """Render the form again without what was typed: a passphrase is never sent back."""
        self.data = self.data.copy()
        for name in ("passphrase", "confirm"):
            self.data[name] = ""
