"""FHIR's JSON in: reading a resource from a request body, refusing what is not one.

A body is refused before anything reads it further when it is larger than the server accepts
(413, from Django's DATA_UPLOAD_MAX_MEMORY_SIZE) or nested deeper than any FHIR resource needs
(400): both are cheap ways to exhaust a server, never a real record.
"""

import json
from datetime import date
from typing import Any

from steadfast.fhir.errors import FHIRError
from steadfast.fhir.http import FHIR_JSON

ACCEPTED_BODY_TYPES = frozenset({FHIR_JSON, "application/json"})
# A transaction Bundle's deepest real path (entry.resource.extension.extension.value...coding)
# is under 15 levels; 64 leaves room for contained resources and nested extensions.
MAX_DEPTH = 64


def read_json_body(request) -> dict[str, Any]:
    """The request's body as a JSON object; FHIRError 415, 413 or 400 when it is not one."""
    content_type = request.content_type or ""
    if content_type not in ACCEPTED_BODY_TYPES:
        raise FHIRError(415, f"Send the resource as {FHIR_JSON}.")
    try:
        data = json.loads(request.body.decode("utf-8"))
    except ValueError as exc:  # not UTF-8, not JSON, or a number of more than 4,300 digits
        raise FHIRError(400, f"The body is not valid JSON: {exc.__class__.__name__}.") from exc
    except RecursionError as exc:
        raise FHIRError(400, f"The body is nested deeper than {MAX_DEPTH} levels.") from exc
    if not isinstance(data, dict):
        raise FHIRError(400, "The body must be a JSON object (a FHIR resource).")
    if _depth(data) > MAX_DEPTH:
        raise FHIRError(400, f"The body is nested deeper than {MAX_DEPTH} levels.")
    return data


def _depth(value: Any) -> int:
    """How deeply objects and arrays nest in `value` (without recursing, so no depth breaks it)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def read_resource(request, model) -> tuple[dict[str, Any], Any]:
    """The body as (raw dict, parsed R4B model); 400 for the wrong type, 422 if not valid FHIR."""
    data = read_json_body(request)
    expected = model.get_resource_type()
    if data.get("resourceType") != expected:
        raise FHIRError(400, f"Expected a {expected} resource.")
    return data, model.model_validate(data)


def full_date(value: date | str | None, what: str, needed: str) -> date | None:
    """A FHIR date where only a whole day will do. FHIR allows `1970` and `1970-01` too: valid
    FHIR that such a field cannot hold, so 422 says what is needed rather than guessing a day."""
    if value is None or isinstance(value, date):
        return value
    raise FHIRError(422, f"{what}: {value!r} is a partial date; {needed}.", "value")
