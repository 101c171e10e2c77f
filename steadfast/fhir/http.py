"""FHIR's JSON out: every answer is `application/fhir+json`."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse

FHIR_JSON = "application/fhir+json"


_EMPTY = (None, "", [], {})


def compact(value):
    """Drop empty values: FHIR JSON forbids empty strings, arrays and objects, and nulls.

    Loops rather than generators: a history page compacts a thousand resources.
    """
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            if isinstance(item, dict | list | tuple):
                item = compact(item)
            if item not in _EMPTY:
                kept[key] = item
        return kept
    if isinstance(value, list | tuple):
        kept = []
        for item in value:
            if isinstance(item, dict | list | tuple):
                item = compact(item)
            if item not in _EMPTY:
                kept.append(item)
        return kept
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
