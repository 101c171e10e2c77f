"""Reading what a UK Core sender sends: codes among several codings, dm+d products held as the
concept they stand for, measurements in any UCUM unit, and what we keep but do not return.

A resource is accepted when one of its codings is a code we hold; every coding is kept (the
resource is stored as received) and given back as sent, see `returned_as_sent`.
"""

from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from steadfast.fhir.capabilities import DMD, SNOMED
from steadfast.fhir.errors import FHIRError
from steadfast.records import services
from steadfast.records.models import CodeMapping, CodeSystem, Concept, ObservationKind
from steadfast.records.observations import SMOKING_STATUS, TYPES
from steadfast.records.units import UnitMismatch, convert

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
# Our units as UCUM codes (what a receiving system computes with).
UCUM_CODES = {
    "mmHg": "mm[Hg]",
    "/min": "/min",
    "kg": "kg",
    "cm": "cm",
    "kg/m²": "kg/m2",
    "°C": "Cel",
    "mmol/mol": "mmol/mol",
    "mL/min/1.73m²": "mL/min/{1.73_m2}",
    "mmol/L": "mmol/L",
    "%": "%",
}
# Blood pressure in LOINC as FHIR's vital signs profile has it: a panel of two components.
BP_PANEL = "85354-9"
SYSTOLIC_LOINC = "8480-6"
DIASTOLIC_LOINC = "8462-4"
# Measurements as LOINC codes them (FHIR's vital signs profile, UK Core's examples).
LOINC_KINDS = {
    "8867-4": ObservationKind.PULSE,
    "29463-7": ObservationKind.WEIGHT,
    "8302-2": ObservationKind.HEIGHT,
    "8310-5": ObservationKind.TEMPERATURE,
    "39156-5": ObservationKind.BMI,
    "2708-6": ObservationKind.OXYGEN_SATURATION,
    "59408-5": ObservationKind.OXYGEN_SATURATION,
    "9279-1": ObservationKind.RESPIRATORY_RATE,
    "9843-4": ObservationKind.HEAD_CIRCUMFERENCE,
}
SNOMED_KINDS = {t.code: kind for kind, t in TYPES.items() if kind != ObservationKind.BLOOD_PRESSURE}
BP = TYPES[ObservationKind.BLOOD_PRESSURE]
SYSTOLIC = {(LOINC, SYSTOLIC_LOINC), (SNOMED, BP.code)}
DIASTOLIC = {(LOINC, DIASTOLIC_LOINC), (SNOMED, BP.code2)}
FHIR_SYSTEMS = {CodeSystem.SNOMED: SNOMED, CodeSystem.DMD: DMD}

# Elements given back exactly as they were sent, over what the record builds (never a status
# the record may change later, such as a problem's clinical status or a medicine stopped here).
RETURNED_AS_SENT = {
    "Condition": (
        "extension",
        "code",
        "category",
        "severity",
        "bodySite",
        "verificationStatus",
        "onsetPeriod",
        "onsetString",
        "onsetAge",
        "evidence",
    ),
    "AllergyIntolerance": (
        "extension",
        "code",
        "category",
        "type",
        "verificationStatus",
        "reaction",
        "criticality",
    ),
    "Observation": (
        "extension",
        "code",
        "category",
        "status",
        "valueCodeableConcept",
        "bodySite",
        "method",
        "interpretation",
    ),
    "Immunization": (
        "extension",
        "vaccineCode",
        "site",
        "route",
        "doseQuantity",
        "manufacturer",
        "protocolApplied",
        "expirationDate",
        "reasonCode",
    ),
    "MedicationRequest": (
        "extension",
        "medicationCodeableConcept",
        "category",
        "courseOfTherapyType",
        "dosageInstruction",
        "intent",
        "reasonCode",
    ),
}
# Elements read into the record's own fields (so neither lost nor a reason to warn).
READ = {
    "Condition": (
        "clinicalStatus",
        "subject",
        "onsetDateTime",
        "recordedDate",
        "abatementDateTime",
    ),
    "AllergyIntolerance": ("clinicalStatus", "patient", "onsetDateTime", "recordedDate", "note"),
    "Observation": ("subject", "effectiveDateTime", "issued", "valueQuantity", "component"),
    "Immunization": (
        "status",
        "patient",
        "occurrenceDateTime",
        "recorded",
        "lotNumber",
        "primarySource",
    ),
    "MedicationRequest": (
        "status",
        "subject",
        "authoredOn",
        "dispenseRequest",
        "medicationReference",
        "statusReason",
    ),
}
NOT_DATA = {"resourceType", "id", "meta", "text", "contained"}


def returned_as_sent(resource_type: str, body: dict, received: dict | None) -> dict:
    """`body` with the elements the sender sent given back as they were sent."""
    if not received:
        return body
    for element in RETURNED_AS_SENT.get(resource_type, ()):
        if element in received:
            body[element] = received[element]
    return body


def not_returned(resource_type: str, resource: dict) -> list[str]:
    """Elements kept as received but not part of the record (so not given back)."""
    known = {*RETURNED_AS_SENT.get(resource_type, ()), *READ.get(resource_type, ()), *NOT_DATA}
    return sorted(k for k in resource if k not in known and not k.startswith("_"))


def refuse_modifier_extensions(resource: dict) -> None:
    """A modifier extension changes the meaning of what carries it: one we do not know (we know
    none) makes the resource impossible to hold correctly."""
    if resource.get("modifierExtension"):
        urls = ", ".join(str(e.get("url")) for e in resource["modifierExtension"])
        raise FHIRError(422, f"modifierExtension {urls} is not understood here, so it is refused.")


# --- dates -------------------------------------------------------------------------------------


def moment(value: str | None, what: str) -> datetime:
    """A FHIR date or dateTime (YYYY, YYYY-MM, YYYY-MM-DD or with a time) as an instant."""
    if not value:
        raise FHIRError(422, f"{what} is required.")
    text = str(value)
    if "T" in text:
        parsed = parse_datetime(text)
        if parsed is None:
            raise FHIRError(422, f"{what}: {text!r} is not a dateTime.")
        return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed
    try:
        parts = [int(p) for p in text.split("-")] + [1, 1]
        day = date(parts[0], parts[1], parts[2])
    except (ValueError, OverflowError) as exc:
        raise FHIRError(422, f"{what}: {text!r} is not a date.") from exc
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def optional_moment(value: str | None, what: str) -> datetime | None:
    return moment(value, what) if value else None


# --- codes -------------------------------------------------------------------------------------


def codings(concept: dict | None) -> list[tuple[str, str]]:
    return [
        (str(c.get("system", "")).rstrip("/"), str(c.get("code", "")))
        for c in (concept or {}).get("coding") or []
        if isinstance(c, dict) and c.get("code")
    ]


def held_concept(
    codeable: dict | None, system: str, what: str, uses: tuple[str, ...]
) -> tuple[Concept, str]:
    """The Concept one of the codings names (directly, or through a dm+d mapping: an AMP, a
    VMP's previous id, a vaccine product) and the code sent; 422 naming the codes otherwise."""
    fhir_system = FHIR_SYSTEMS[system]
    sent = codings(codeable)
    # dm+d ids are SNOMED CT ids: a dm+d code may come as either system, and so may a product.
    accepted = {SNOMED, DMD}
    codes = [code for s, code in sent if s in accepted or s == fhir_system]
    if not codes:
        raise FHIRError(422, f"{what} needs a code from {fhir_system}.")
    found = {
        c.code: c
        for c in Concept.objects.filter(code__in=codes, use__in=uses).order_by("system")
        if system == CodeSystem.DMD or c.system == system
    }
    for code in codes:
        if code in found:
            return found[code], code
    mapped = {
        m.code: m.concept
        for m in CodeMapping.objects.filter(code__in=codes, concept__use__in=uses).select_related(
            "concept"
        )
    }
    for code in codes:
        if code in mapped:
            return mapped[code], code
    named = ", ".join(f"{code} ({s})" for s, code in sent) or "none"
    raise FHIRError(422, f"{what}: no code this system holds among {named}.")


def text_of(codeable: dict | None) -> str:
    """What a CodeableConcept says in words: its text, else the first display."""
    codeable = codeable or {}
    displays = [c.get("display") for c in codeable.get("coding") or [] if c.get("display")]
    return str(codeable.get("text") or (displays[0] if displays else ""))


# --- observations ------------------------------------------------------------------------------


def _in_unit(quantity: dict | None, unit: str, what: str) -> Decimal:
    """A valueQuantity in the record's unit for it, converted with UCUM when sent in another."""
    if not isinstance(quantity, dict) or quantity.get("value") is None:
        raise FHIRError(422, f"{what} needs a valueQuantity.")
    wanted = UCUM_CODES.get(unit, unit)
    code = quantity.get("code")
    if code is None or code == wanted:
        return Decimal(str(quantity["value"]))
    if quantity.get("system") not in (None, UCUM):
        raise FHIRError(422, f"{what}: unit {code!r} is not a UCUM code; send {wanted}.")
    try:
        return convert(quantity["value"], str(code), wanted)
    except UnitMismatch as exc:
        raise FHIRError(422, f"{what}: unit {code!r} cannot be read as {wanted}.") from exc


def _blood_pressure(r: dict) -> services.NewObservation:
    values = {}
    for c in r.get("component") or []:
        component_codes = set(codings(c.get("code")))
        for name, wanted in (("systolic", SYSTOLIC), ("diastolic", DIASTOLIC)):
            if component_codes & wanted:
                values[name] = _in_unit(c.get("valueQuantity"), BP.unit, name)
    if set(values) != {"systolic", "diastolic"}:
        raise FHIRError(
            422,
            f"Blood pressure needs a systolic ({LOINC}|{SYSTOLIC_LOINC}) and a diastolic"
            f" ({LOINC}|{DIASTOLIC_LOINC}) component.",
        )
    return services.NewObservation(
        ObservationKind.BLOOD_PRESSURE, values["systolic"], values["diastolic"]
    )


def new_observation(r: dict) -> services.NewObservation:
    """What was measured, from any coding we hold: blood pressure as a component pair, smoking
    status, or one of the measurements the record keeps (in its unit)."""
    codes = set(codings(r.get("code")))
    component_codes = {c for comp in r.get("component") or [] for c in codings(comp.get("code"))}
    if (LOINC, BP_PANEL) in codes or component_codes & (SYSTOLIC | DIASTOLIC):
        return _blood_pressure(r)
    smoking = {code: key for key, code in SMOKING_STATUS.items()}
    for system, code in codes | set(codings(r.get("valueCodeableConcept"))):
        if system == SNOMED and code in smoking:
            return services.NewObservation(ObservationKind.SMOKING, smoking=smoking[code])
    for system, code in sorted(codes):
        kind = LOINC_KINDS.get(code) if system == LOINC else None
        kind = kind or (SNOMED_KINDS.get(code) if system == SNOMED else None)
        if kind is not None:
            t = TYPES[kind]
            return services.NewObservation(kind, _in_unit(r.get("valueQuantity"), t.unit, t.label))
    named = ", ".join(f"{code} ({system})" for system, code in sorted(codes)) or "none"
    raise FHIRError(422, f"Observation code {named} is not one this system records.")


def component_codes_as_sent(received: dict | None) -> dict[str, dict]:
    """A received blood pressure's component codes, as sent, by "systolic"/"diastolic"."""
    found = {}
    for c in (received or {}).get("component") or []:
        component_codes = set(codings(c.get("code")))
        for name, wanted in (("systolic", SYSTOLIC), ("diastolic", DIASTOLIC)):
            if component_codes & wanted:
                found[name] = c["code"]
    return found
