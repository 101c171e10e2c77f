"""Domain errors raised by services: views show them as messages, the API as OperationOutcomes."""

from django.core.exceptions import PermissionDenied


class DomainError(Exception):
    """A rule of the practice refused the action; the message is fit to show the user."""


class SlotUnavailable(DomainError):
    pass


class BookingKeyReused(DomainError):
    """A booking's idempotency key came back with a different patient: a client's mistake."""


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


class NotPermitted(DomainError, PermissionDenied):
    """The acting user may not do this: their role, their practice, or a restricted record.

    Raised by `steadfast.accounts.access.require` at the start of every service that writes.
    Being a PermissionDenied too, a page that lets it through answers 403 (audited as refused);
    the API answers a 403 OperationOutcome.
    """

    def __init__(self, message: str, *, activity: str = "", patient_id=None) -> None:
        super().__init__(message)
        self.activity = activity
        self.patient_id = patient_id


class RestrictedRecord(NotPermitted):
    """The record is restricted (sensitive) and the user has no care relationship and no
    current break-glass: they must open it in Steadfast and give a reason first."""
