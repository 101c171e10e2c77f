"""The CapabilityStatement and the OpenAPI description say exactly what the API does."""

import json

from steadfast.fhir.api import api as fhir_api
from steadfast.fhir.capabilities import RESOURCES
from tests.fhir.helpers import FHIRClient

INTERACTION_ROUTES = {
    "read": ("GET", "/{resource_id}"),
    "search-type": ("GET", ""),
    "create": ("POST", ""),
    "update": ("PUT", "/{resource_id}"),
}


def _routes() -> set[tuple[str, str]]:
    paths = fhir_api.get_openapi_schema()["paths"]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def test_capability_statement_lists_exactly_the_routes(client):
    statement = FHIRClient(client).get("metadata").fhir
    assert statement["fhirVersion"] == "4.0.1"
    listed = set()
    for resource in statement["rest"][0]["resource"]:
        for interaction in resource["interaction"]:
            method, suffix = INTERACTION_ROUTES[interaction["code"]]
            listed.add((method, f"/fhir/{resource['type']}{suffix}"))
        for operation in resource.get("operation", []):
            listed.add(("GET", f"/fhir/{resource['type']}/{{resource_id}}/${operation['name']}"))
    system = {i["code"] for i in statement["rest"][0].get("interaction", [])}
    if "transaction" in system:
        listed.add(("POST", "/fhir/"))
    if "history-system" in system:
        listed.add(("GET", "/fhir/_history"))
    for operation in statement["rest"][0].get("operation", []):
        listed.add(("POST", f"/fhir/${operation['name']}"))
    resource_routes = _routes() - {("GET", "/fhir/metadata")}
    assert listed == resource_routes


def test_capability_search_parameters_are_the_accepted_ones(client, api):
    statement = FHIRClient(client).get("metadata").fhir
    for resource in statement["rest"][0]["resource"]:
        names = {p["name"] for p in resource.get("searchParam", [])}
        assert names == set(RESOURCES[resource["type"]].search)
        for name in names:  # each listed parameter is accepted (400 would mean refused)
            assert api.get(f"{resource['type']}?{name}=2026-01-01").status_code != 400 or (
                name in {"identifier", "status"}
            )
    slot = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Slot")
    assert slot["searchInclude"] == ["Slot:schedule"]


def test_openapi_is_published_at_fhir_openapi_json(client):
    response = client.get("/fhir/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    slot_search = schema["paths"]["/fhir/Slot"]["get"]
    assert {"status", "start", "schedule", "_count"} <= {
        p["name"] for p in slot_search["parameters"]
    }
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
