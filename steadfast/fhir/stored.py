"""The `stored-fields` extension: what a resource in the `_history` feed carries beyond the API's
view of it, so a follower (a practice node) can keep exactly what Steadfast keeps.

Each sub-extension is named after the field it holds and typed as FHIR types it: valueString,
valueDateTime, valueBoolean, valueCoding for a SNOMED CT or dm+d concept, and so on. Empty
values are left out (FHIR JSON has no empty strings), so a missing one reads back as the field's
default. JSON fields (details kept as another system sent them) travel as their JSON text.
"""

import base64
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from steadfast.fhir.capabilities import DMD, SNOMED

STORED_FIELDS = "https://fhir.steadfast.example/StructureDefinition/stored-fields"
CODE_SYSTEMS = {"snomed": SNOMED, "dmd": DMD}
SYSTEM_NAMES = {url: name for name, url in CODE_SYSTEMS.items()}


def number(value: Decimal) -> int | float:
    """A stored decimal as a JSON number (FHIR decimals are numbers, never strings)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _typed(row: models.Model, field: models.Field) -> dict | None:
    value = getattr(row, field.attname)
    if value is None or value == "":
        return None
    if isinstance(field, models.ForeignKey):
        if field.related_model._meta.label == "records.Concept":
            concept = getattr(row, field.name)
            system = CODE_SYSTEMS[concept.system]
            return {
                "valueCoding": {"system": system, "code": concept.code, "display": concept.term}
            }
        return {"valueString": str(value)}
    if isinstance(field, models.BooleanField):
        return {"valueBoolean": bool(value)}
    if isinstance(field, models.DateTimeField):
        return {"valueDateTime": value.isoformat()}
    if isinstance(field, models.DateField):
        return {"valueDate": value.isoformat()}
    if isinstance(field, models.DecimalField):
        return {"valueDecimal": number(value)}
    if isinstance(field, models.IntegerField):
        return {"valueInteger": int(value)}
    if isinstance(field, models.JSONField):
        return {"valueString": json.dumps(value, sort_keys=True)} if value else None
    if isinstance(field, models.BinaryField):
        return {"valueBase64Binary": base64.b64encode(bytes(value)).decode("ascii")}
    return {"valueString": str(value)}


def stored_extension(row: models.Model, names: tuple[str, ...]) -> dict:
    subs = []
    for name in names:
        typed = _typed(row, row._meta.get_field(name))
        if typed is not None:
            subs.append({"url": name, **typed})
    return {"url": STORED_FIELDS, "extension": subs}


def with_stored(resource: dict, row: models.Model, names: tuple[str, ...]) -> dict:
    resource["extension"] = [*(resource.get("extension") or []), stored_extension(row, names)]
    return resource


def _python(field: models.Field, sub: dict, concept_for) -> Any:
    if "valueCoding" in sub:
        coding = sub["valueCoding"]
        return concept_for(field, SYSTEM_NAMES[coding["system"]], coding["code"], coding["display"])
    if "valueDateTime" in sub:
        return datetime.fromisoformat(sub["valueDateTime"])
    if "valueDate" in sub:
        return date.fromisoformat(sub["valueDate"])
    if "valueDecimal" in sub:
        return Decimal(str(sub["valueDecimal"]))
    if "valueBase64Binary" in sub:
        return base64.b64decode(sub["valueBase64Binary"])
    if "valueString" in sub and isinstance(field, models.JSONField):
        return json.loads(sub["valueString"])
    if "valueString" in sub and isinstance(field, models.ForeignKey):
        return field.target_field.to_python(sub["valueString"])
    if "valueString" in sub:
        return field.to_python(sub["valueString"])  # a UUID as a UUID
    for key in ("valueBoolean", "valueInteger"):
        if key in sub:
            return sub[key]
    raise ValueError(f"stored field {sub.get('url')!r} has no value")


def read_stored(resource: dict, model: type[models.Model], names: tuple[str, ...], concept_for):
    """The fields `names` of `model` as the resource's stored-fields extension holds them, by
    attribute name (`booked_by_id`); `concept_for(field, system, code, term)` finds concepts."""
    extension = next(
        (e for e in resource.get("extension", []) if e.get("url") == STORED_FIELDS), {}
    )
    given = {sub["url"]: sub for sub in extension.get("extension", [])}
    values = {}
    for name in names:
        field = model._meta.get_field(name)
        if name in given:
            value = _python(field, given[name], concept_for)
            values[field.attname] = value.pk if isinstance(value, models.Model) else value
        else:  # left out because empty
            values[field.attname] = field.get_default()
    return values
