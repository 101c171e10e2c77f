"""Every failure of the API as a FHIR OperationOutcome with the right HTTP status.

Handlers are registered on the NinjaAPI by `install_handlers`; nothing a client sends may turn
into a 500, so validation errors of every kind end here as 400 or 422.
"""

import logging

import pydantic
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from steadfast.audit.record_access import record_refusal
from steadfast.errors import (
    DomainError,
    DuplicateNHSNumber,
    NotPermitted,
    PossibleDuplicatePatient,
    SlotUnavailable,
    VersionConflict,
)
from steadfast.fhir.http import fhir_response
from steadfast.switchover import DATABASE_UNAVAILABLE, switching_over

logger = logging.getLogger(__name__)

# HTTP status -> the OperationOutcome issue type that says the same.
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-long",
    415: "not-supported",
    422: "processing",
    500: "exception",
    503: "transient",
}


class FHIRError(Exception):
    """Raised anywhere in the API to answer with an OperationOutcome.

    A 403 is put on the audit trail as refused (`activity` says what was tried), unless the
    code raising it has audited the refusal already (`audited`)."""

    def __init__(
        self,
        status: int,
        diagnostics: str,
        code: str | None = None,
        *,
        activity: str = "",
        audited: bool = False,
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = diagnostics
        self.code = code or ISSUE_CODES.get(status, "processing")
        self.activity = activity
        self.audited = audited


def operation_outcome(diagnostics: str, code: str, severity: str = "error") -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


def outcome_response(status: int, diagnostics: str, code: str | None = None) -> HttpResponse:
    code = code or ISSUE_CODES.get(status, "processing")
    response = fhir_response(operation_outcome(diagnostics, code), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="steadfast"'
    return response


def _refused(request, activity: str = "", patient_id=None) -> None:
    record_refusal(
        request.user,
        activity=activity,
        patient_id=patient_id,
        where=f"{request.method} {request.path} (API)",
    )


def _fhir_error(request, exc: FHIRError) -> HttpResponse:
    if exc.status == 403 and not exc.audited:
        _refused(request, exc.activity)
    return outcome_response(exc.status, exc.diagnostics, exc.code)


def _not_permitted(request, exc: NotPermitted) -> HttpResponse:
    _refused(request, exc.activity, exc.patient_id)
    return outcome_response(403, str(exc), "forbidden")


def _permission_denied(request, exc: PermissionDenied) -> HttpResponse:
    _refused(request)
    return outcome_response(403, "Not permitted.")


def _parameters_invalid(request, exc: NinjaValidationError) -> HttpResponse:
    parts = []
    for error in exc.errors:
        where = ".".join(str(p) for p in error.get("loc", ())[1:]) or "request"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return outcome_response(400, "Invalid parameters. " + "; ".join(parts))


def _resource_invalid(request, exc: pydantic.ValidationError) -> HttpResponse:
    parts = [
        f"{'.'.join(str(p) for p in e['loc']) or 'resource'}: {e['msg']}" for e in exc.errors()
    ]
    return outcome_response(422, "The resource is not valid FHIR R4: " + "; ".join(parts[:10]))


def _domain_error(request, exc: DomainError) -> HttpResponse:
    if isinstance(exc, DuplicateNHSNumber | PossibleDuplicatePatient):
        return outcome_response(409, str(exc), "duplicate")
    if isinstance(exc, SlotUnavailable):
        return outcome_response(409, str(exc), "conflict")
    if isinstance(exc, VersionConflict):
        return outcome_response(412, str(exc), "conflict")
    return outcome_response(422, str(exc), "business-rule")


def _not_found(request, exc: Exception) -> HttpResponse:
    return outcome_response(404, "No such resource.")


def _http_error(request, exc: HttpError) -> HttpResponse:
    if isinstance(exc, AuthenticationError):
        return outcome_response(
            401, "Send Authorization: Bearer <token>; `steadfast token USERNAME` makes one."
        )
    return outcome_response(exc.status_code, str(exc))


def _bad_input(request, exc: Exception) -> HttpResponse:
    return outcome_response(400, f"Invalid request: {exc.__class__.__name__}.")


def _too_big(request, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return outcome_response(
        413, f"The body is larger than the {limit:,} bytes this server accepts in one request."
    )


def _too_deep(request, exc: RecursionError) -> HttpResponse:
    return outcome_response(400, "The request is nested too deeply to read.")


def _unexpected(request, exc: Exception) -> HttpResponse:
    # The message may quote patient data, so only the type and the path go to the log.
    logger.error("FHIR API failure %s on %s", exc.__class__.__name__, request.path, exc_info=exc)
    return outcome_response(500, "The server could not complete the request.")


def _database_unavailable(request, exc: Exception) -> HttpResponse:
    return switching_over(request)  # 503 OperationOutcome with Retry-After


def install_handlers(api) -> None:
    api.add_exception_handler(Exception, _unexpected)
    for unavailable in DATABASE_UNAVAILABLE:
        api.add_exception_handler(unavailable, _database_unavailable)
    api.add_exception_handler(FHIRError, _fhir_error)
    api.add_exception_handler(NinjaValidationError, _parameters_invalid)
    api.add_exception_handler(pydantic.ValidationError, _resource_invalid)
    api.add_exception_handler(DomainError, _domain_error)
    api.add_exception_handler(NotPermitted, _not_permitted)
    api.add_exception_handler(Http404, _not_found)
    api.add_exception_handler(ObjectDoesNotExist, _not_found)
    api.add_exception_handler(HttpError, _http_error)
    api.add_exception_handler(RequestDataTooBig, _too_big)
    api.add_exception_handler(RecursionError, _too_deep)
    api.add_exception_handler(PermissionDenied, _permission_denied)
    for bad_input in (DjangoValidationError, ValueError, UnicodeError):
        api.add_exception_handler(bad_input, _bad_input)
