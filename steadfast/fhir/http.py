"""FHIR's JSON out: every answer is `application/fhir+json`."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse

FHIR_JSON = "application/fhir+json"


def compact(value):
    """Drop empty values: FHIR JSON forbids empty strings, arrays and objects, and nulls."""
    if isinstance(value, dict):
        pairs = ((k, compact(v)) for k, v in value.items())
        return {k: v for k, v in pairs if v not in (None, "", [], {})}
    if isinstance(value, list | tuple):
        items = (compact(v) for v in value)
        return [v for v in items if v not in (None, "", [], {})]
    return value


def fhir_response(data: dict, status: int = 200, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(compact(data), cls=DjangoJSONEncoder, ensure_ascii=False),
        status=status,
        content_type=f"{FHIR_JSON}; charset=utf-8",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response
