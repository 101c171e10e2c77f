"""FHIR's JSON in: reading a resource from a request body, refusing what is not one."""

import json
from typing import Any

from steadfast.fhir.errors import FHIRError
from steadfast.fhir.http import FHIR_JSON

ACCEPTED_BODY_TYPES = frozenset({FHIR_JSON, "application/json"})


def read_json_body(request) -> dict[str, Any]:
    """The request's body as a JSON object; FHIRError 415 or 400 when it is not one."""
    content_type = request.content_type or ""
    if content_type not in ACCEPTED_BODY_TYPES:
        raise FHIRError(415, f"Send the resource as {FHIR_JSON}.")
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FHIRError(400, f"The body is not valid JSON: {exc.__class__.__name__}.") from exc
    if not isinstance(data, dict):
        raise FHIRError(400, "The body must be a JSON object (a FHIR resource).")
    return data


def read_resource(request, model) -> tuple[dict[str, Any], Any]:
    """The body as (raw dict, parsed R4B model); 400 for the wrong type, 422 if not valid FHIR."""
    data = read_json_body(request)
    expected = model.get_resource_type()
    if data.get("resourceType") != expected:
        raise FHIRError(400, f"Expected a {expected} resource.")
    return data, model.model_validate(data)
