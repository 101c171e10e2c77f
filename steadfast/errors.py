"""Domain errors raised by services: views show them as messages, the API as OperationOutcomes."""


class DomainError(Exception):
    """A rule of the practice refused the action; the message is fit to show the user."""


class SlotUnavailable(DomainError):
    pass


class PatientNotBookable(DomainError):
    pass


class InvalidTransition(DomainError):
    pass


class DuplicateNHSNumber(DomainError):
    pass


class PossibleDuplicatePatient(DomainError):
    """Someone with the same name and date of birth is already registered."""

    def __init__(self, message: str, matches: list) -> None:
        super().__init__(message)
        self.matches = matches


class VersionConflict(DomainError):
    """The record changed since the caller read it (an HTTP If-Match that no longer matches)."""
