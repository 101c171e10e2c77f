"""What a request answers when the database went away under it (a failover, a restart).

PostgreSQL behind Patroni is briefly unreachable while a replica is promoted: the request in
flight fails with OperationalError or InterfaceError. The person sees "switching over, try again"
(HTTP 503 with Retry-After), never a stack trace; Django drops the broken connection at the end
of the request (CONN_HEALTH_CHECKS), so the next request connects afresh and libpq finds the new
primary (target_session_attrs=read-write). A booking retried this way is not made twice: it
carries its idempotency key.
"""

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5
MESSAGE = "The system is switching over. Try again in a few seconds."


def is_database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, DATABASE_UNAVAILABLE)


def switching_over(request: HttpRequest) -> HttpResponse:
    """The 503 answer: a page, a fragment for htmx, or an OperationOutcome under /fhir/.

    Drawn without the database (no user, no navigation), since the database is what is missing.
    """
    if request.path.startswith("/fhir/"):
        from steadfast.fhir.errors import outcome_response

        response = outcome_response(503, MESSAGE, "transient")
    else:
        template = (
            "errors/_503_fragment.jinja"
            if request.headers.get("HX-Request")
            else ("errors/503.jinja")
        )
        body = render_to_string(template, {"message": MESSAGE, "retry": RETRY_AFTER_SECONDS})
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
