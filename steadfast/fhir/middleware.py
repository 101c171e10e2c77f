"""FHIR answers for what the API's own handlers never see.

Django Ninja answers a method a path does not take (DELETE, PATCH, OPTIONS...) with a plain-text
405 before any handler runs; a FHIR client must get an OperationOutcome, and the Allow header.
"""

from functools import cache

from django.urls import reverse

from steadfast.fhir.errors import outcome_response
from steadfast.fhir.http import FHIR_JSON


@cache
def _api_prefix() -> str:
    return reverse("fhir:metadata").removesuffix("metadata")


class MethodNotAllowedAsOutcome:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code != 405
            or not request.path.startswith(_api_prefix())
            or response.get("Content-Type", "").startswith(FHIR_JSON)
        ):
            return response
        allowed = response.get("Allow", "")
        outcome = outcome_response(
            405, f"{request.method} is not supported here; this path takes {allowed or 'none'}."
        )
        outcome["Allow"] = allowed
        return outcome
