"""Form pieces shared by every app: plain error messages, the NHS.UK three-field date, and the
optional "when this happened" of an entry made afterwards."""

import re
from datetime import date, datetime, time

from django import forms
from django.utils import timezone

from steadfast.entry_times import (
    EntryTimeError,
    check_back_entry_window,
    check_occurred_at,
)


class PlainMessages:
    """Mixin for a form: limits explained in the NHS.UK service manual's words ('History must be
    10,000 characters or less', not Django's wording), and, when `label_optional` is set,
    '(optional)' after the label of each optional field a person fills in."""

    label_optional = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            label = str(field.label or name.replace("_", " ").capitalize())
            label = label.removesuffix(" (optional)")
            if getattr(field, "max_length", None):
                field.error_messages["max_length"] = (
                    f"{label} must be {field.max_length:,} characters or less"
                )
            if getattr(field, "min_value", None) is not None:
                field.error_messages["min_value"] = f"{label} must be {field.min_value:,} or more"
            if getattr(field, "max_value", None) is not None:
                field.error_messages["max_value"] = f"{label} must be {field.max_value:,} or less"
            if (
                self.label_optional
                and not field.required
                and not field.widget.is_hidden
                and not isinstance(field, forms.BooleanField)
                and not str(field.label or "").endswith("(optional)")
            ):
                field.label = f"{label} (optional)"


PARTS = ("day", "month", "year")


class ThreeFieldDateInput(forms.Widget):
    """The NHS.UK date input: day, month and year boxes named `<name>[day]` and so on.

    A single `<name>` value (`2026-11-24` or `24/11/2026`) is still read, for links and for
    callers that post one value."""

    def value_from_datadict(self, data, files, name):
        parts = tuple((data.get(f"{name}[{part}]") or "").strip() for part in PARTS)
        return parts if any(parts) else data.get(name)

    def id_for_label(self, id_):
        return f"{id_}-day" if id_ else id_  # the error summary links to the first box

    def value_omitted_from_data(self, data, files, name):
        return name not in data and not any(f"{name}[{part}]" in data for part in PARTS)


class ThreeFieldDateField(forms.Field):
    """A date typed as day, month and year, with the messages the NHS.UK pattern asks for."""

    widget = ThreeFieldDateInput
    ONE_VALUE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d %b %Y", "%d %B %Y")

    def __init__(self, *, earliest: date | None = None, latest: date | None = None, **kwargs):
        self.earliest, self.latest = earliest, latest
        super().__init__(**kwargs)

    def _name(self) -> str:
        return str(self.label or "Date").removesuffix(" (optional)")

    def to_python(self, value) -> date | None:
        if value in (None, "", ()):
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            return self._one_value(value)
        day, month, year = value
        missing = [p for p, v in zip(PARTS, value, strict=True) if not v]
        if missing:
            raise forms.ValidationError(
                f"{self._name()} must include a {' and a '.join(missing)}", code="incomplete"
            )
        if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
            raise forms.ValidationError(
                f"{self._name()} must be a real date, for example 24 11 1970", code="invalid"
            )
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            raise forms.ValidationError(
                f"{self._name()} must be a real date, for example 24 11 1970", code="invalid"
            ) from None

    def _one_value(self, value: str) -> date:
        for fmt in self.ONE_VALUE_FORMATS:
            try:
                return datetime.strptime(value.strip(), fmt).date()
            except ValueError:
                continue
        raise forms.ValidationError(
            f"{self._name()} must be a real date, for example 24 11 1970", code="invalid"
        )

    def validate(self, value) -> None:
        if value is None and self.required:
            raise forms.ValidationError(
                self.error_messages.get("required") or f"Enter the {self._name().lower()}",
                code="required",
            )
        if value and self.earliest and value < self.earliest:
            raise forms.ValidationError(
                f"{self._name()} must be on or after {_uk(self.earliest)}", code="too_early"
            )
        if value and self.latest and value > self.latest:
            raise forms.ValidationError(
                f"{self._name()} must be on or before {_uk(self.latest)}", code="too_late"
            )

    @staticmethod
    def parts(value) -> dict[str, str]:
        """What each box shows again: the parts typed, or those of a date."""
        if isinstance(value, date):
            return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}
        if isinstance(value, tuple):
            return dict(zip(PARTS, value, strict=True))
        if isinstance(value, str) and value:
            try:
                return ThreeFieldDateField.parts(ThreeFieldDateField()._one_value(value))
            except forms.ValidationError:
                pass
        return {"day": "", "month": "", "year": ""}


def _uk(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


TIME_OF_DAY = re.compile(r"^([01]?\d|2[0-3])[:.]?([0-5]\d)$")


def time_of_day(text: str) -> time | None:
    """`09:12`, `9.12` or `0912` as a time of day (24-hour clock), or None."""
    match = TIME_OF_DAY.match(text.strip())
    return time(int(match.group(1)), int(match.group(2))) if match else None


class WhenItHappened(forms.Form):
    """The optional date and time an entry made afterwards (from paper) really happened, in
    Europe/London; `cleaned_data["occurred_at"]` is that instant, or None for now."""

    happened_on = ThreeFieldDateField(
        label="Date it happened",
        required=False,
        help_text="Only if you are entering this afterwards, for example from paper notes. "
        "For example, 10 11 2026",
    )
    happened_at = forms.CharField(
        label="Time it happened",
        required=False,
        max_length=5,
        help_text="24-hour clock, for example 09:12",
    )

    def clean(self):
        data = super().clean()
        data["occurred_at"] = None
        if "happened_on" in self.errors:
            return data
        day, typed = data.get("happened_on"), (data.get("happened_at") or "").strip()
        if day is None and not typed:
            return data
        if day is None:
            self.add_error("happened_on", "Enter the date it happened")
            return data
        at = time_of_day(typed) if typed else None
        if at is None:
            self.add_error(
                "happened_at",
                "Time it happened must be a real time, for example 09:12"
                if typed
                else "Enter the time it happened, for example 09:12",
            )
            return data
        moment = datetime.combine(day, at, tzinfo=timezone.get_current_timezone())
        now = timezone.now()
        try:
            check_occurred_at(moment, now)
            check_back_entry_window(moment, now)
        except EntryTimeError as exc:
            self.add_error("happened_on", str(exc))
            return data
        data["occurred_at"] = moment
        return data
