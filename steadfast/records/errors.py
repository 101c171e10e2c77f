"""Domain errors of the patient record; views turn them into messages or confirm steps."""

from steadfast.errors import DomainError


class InvalidEntry(DomainError):
    """The entry breaks a rule of the record (a value out of range, a wrong kind of code)."""


class AllergyWarning(DomainError):
    """The medicine belongs to a class the patient has a recorded allergy to."""

    def __init__(self, message: str, allergies: list) -> None:
        super().__init__(message)
        self.allergies = allergies


class StaleEdit(DomainError):
    """Someone else edited the consultation since this edit began."""
