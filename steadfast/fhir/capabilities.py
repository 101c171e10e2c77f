"""What the API supports, in one table: the CapabilityStatement, the OpenAPI search parameters
and the refusal of unsupported parameters are all read from here, so they cannot disagree."""

from dataclasses import dataclass, field

from django.utils import timezone

FHIR_VERSION = "4.0.1"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"
SNOMED = "http://snomed.info/sct"
DMD = "https://dmd.nhs.uk"
UK_CORE_PROFILE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
# UK Core's own CapabilityStatement and its Simplifier project (the UK Core repository's README).
UK_CORE_CAPABILITIES = "https://fhir.hl7.org.uk/CapabilityStatement/ukcore-conformance"
UK_CORE_GUIDE = "https://simplifier.net/hl7fhirukcorer4"
# What the transaction endpoint (POST /fhir/) takes; read with the import in transaction.py.
TRANSACTION_TYPES = (
    "Patient",
    "Condition",
    "Observation",
    "AllergyIntolerance",
    "MedicationRequest",
    "Immunization",
    "Medication",
)
VITAL_SIGNS = ("BMI", "BloodPressure", "BodyHeight", "BodyTemperature", "BodyWeight")
VITAL_SIGNS += ("HeadCircumference", "HeartRate", "OxygenSaturation", "RespirationRate")
SUPPORTED_PROFILES = {
    "Observation": tuple(f"Observation-VitalSigns-{name}" for name in VITAL_SIGNS),
}


@dataclass(frozen=True)
class Capability:
    interactions: tuple[str, ...]
    search: dict[str, tuple[str, str]] = field(default_factory=dict)  # name: (type, meaning)
    includes: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()  # e.g. "everything": GET /{type}/{id}/$everything
    conditional_create: bool = False  # If-None-Exist honoured (identifier=<system>|<value>)

    @property
    def parameters(self) -> frozenset[str]:
        return frozenset(self.search) | ({"_include"} if self.includes else frozenset())


RESOURCES: dict[str, Capability] = {
    "Patient": Capability(
        ("read", "search-type", "create"),
        {
            "identifier": ("token", f"NHS number: {NHS_NUMBER}|9434765919"),
            "name": ("string", "Start of any part of the name"),
            "family": ("string", "Start of the family name"),
            "given": ("string", "Start of the given name"),
            "birthdate": ("date", "Date of birth, with eq/ge/le/gt/lt prefixes"),
            "address-postalcode": ("string", "Start of the postcode"),
        },
        operations=("everything",),
        conditional_create=True,
    ),
    "Organization": Capability(
        ("read", "search-type"),
        {"identifier": ("token", f"ODS code: {ODS_CODE}|A81001")},
    ),
    "Location": Capability(("read", "search-type")),
    "Practitioner": Capability(("read", "search-type")),
    "PractitionerRole": Capability(
        ("read", "search-type"),
        {"practitioner": ("reference", "Practitioner/{id}")},
    ),
    "Schedule": Capability(
        ("read", "search-type"),
        {"actor": ("reference", "The Practitioner whose schedule it is")},
    ),
    "Slot": Capability(
        ("read", "search-type"),
        {
            "status": ("token", "free (bookable now), busy or busy-unavailable"),
            "start": ("date", "Slot start, with eq/ge/le/gt/lt prefixes"),
            "schedule": ("reference", "Schedule/{id}"),
            "service-type": ("token", "Slot type: routine, urgent, long, review, bloods..."),
            "delivery-channel": ("token", "face-to-face, telephone, video or home-visit"),
        },
        includes=("Slot:schedule",),
    ),
    "Appointment": Capability(
        ("read", "search-type", "create", "update"),
        {
            "patient": ("reference", "Patient/{id}"),
            "date": ("date", "Appointment start, with eq/ge/le/gt/lt prefixes"),
        },
        includes=("Appointment:patient",),
        conditional_create=True,
    ),
    **{
        resource_type: Capability(
            ("read", "search-type"),
            {"patient": ("reference", "Patient/{id} (required): that patient's entries")},
        )
        for resource_type in (
            "Encounter",
            "Condition",
            "AllergyIntolerance",
            "MedicationRequest",
            "MedicationStatement",
            "Observation",
            "Immunization",
            "DocumentReference",
        )
    },
}
OPERATION_DEFINITIONS = {"everything": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}


def capability_statement(base: str) -> dict:
    resources = []
    for resource_type, cap in RESOURCES.items():
        entry = {
            "type": resource_type,
            "profile": UK_CORE_PROFILE + resource_type,
            "interaction": [{"code": code} for code in cap.interactions],
        }
        if extra := SUPPORTED_PROFILES.get(resource_type):
            entry["supportedProfile"] = [UK_CORE_PROFILE + name for name in extra]
        if cap.conditional_create:
            entry["conditionalCreate"] = True
        if "update" in cap.interactions:
            entry |= {"versioning": "versioned-update", "updateCreate": False}
        if cap.includes:
            entry["searchInclude"] = list(cap.includes)
        if cap.operations:
            entry["operation"] = [
                {"name": name, "definition": OPERATION_DEFINITIONS[name]} for name in cap.operations
            ]
        if cap.search:
            entry["searchParam"] = [
                {"name": name, "type": kind, "documentation": meaning}
                for name, (kind, meaning) in cap.search.items()
            ]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.now().isoformat(),
        "publisher": "Steadfast",
        "kind": "instance",
        "software": {"name": "Steadfast"},
        "implementation": {"description": "Steadfast GP system FHIR API", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "instantiates": [UK_CORE_CAPABILITIES],
        "implementationGuide": [UK_CORE_GUIDE],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Authorization: Bearer <token>, from `steadfast token USERNAME`."
                },
                "resource": resources,
                "interaction": [
                    {
                        "code": "transaction",
                        "documentation": "A transaction Bundle of POST entries, all or nothing: "
                        + ", ".join(TRANSACTION_TYPES)
                        + ". Patient may be conditional (ifNoneExist=identifier="
                        + f"{NHS_NUMBER}|<NHS number>); a Medication only as referred to by a"
                        " MedicationRequest. Entered-in-error, refuted, not-done and cancelled"
                        " entries are refused.",
                    },
                    {
                        "code": "history-system",
                        "documentation": "GET /fhir/_history: every change to the practice's"
                        " data in commit order, for a practice node's token only; follow the"
                        " next link (an opaque cursor).",
                    },
                ],
                "operation": [
                    {
                        "name": "reconcile-downtime",
                        "definition": "https://fhir.steadfast.example/OperationDefinition/"
                        "reconcile-downtime",
                        "documentation": "POST /fhir/$reconcile-downtime: a practice node's"
                        " downtime journal as a batch Bundle of conditional creates (ifNoneExist"
                        " on urn:steadfast:downtime|<uuid>, ifMatch on the version seen); a"
                        " node's token only. Each entry is made as its author, once.",
                    }
                ],
            }
        ],
    }


def search_openapi(resource_type: str) -> dict:
    """OpenAPI `parameters` for a search, for Ninja's openapi_extra."""
    cap = RESOURCES[resource_type]
    params = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": meaning,
            "schema": {"type": "string"},
        }
        for name, (_, meaning) in cap.search.items()
    ]
    if cap.includes:
        params.append(
            {
                "name": "_include",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": list(cap.includes)},
            }
        )
    params += [
        {"name": "_count", "in": "query", "required": False, "schema": {"type": "integer"}},
        {"name": "_offset", "in": "query", "required": False, "schema": {"type": "integer"}},
    ]
    return {"parameters": params}


def body_openapi(resource_type: str) -> dict:
    """OpenAPI `requestBody` for a create or update, for Ninja's openapi_extra."""
    schema = {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"type": "string", "enum": [resource_type]}},
    }
    return {
        "requestBody": {
            "required": True,
            "content": {"application/fhir+json": {"schema": schema}},
        }
    }
