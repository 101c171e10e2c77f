"""Calling the FHIR API in tests: every response must be FHIR JSON that the R4B models accept."""

import json

from fhir.resources.R4B import get_fhir_model_class

from steadfast.fhir.auth import make_token

FHIR_JSON = "application/fhir+json"


def validate(resource: dict) -> dict:
    """Parse with fhir.resources' R4B model for its type (and each entry of a Bundle)."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)
    for entry in resource.get("entry", []) if resource["resourceType"] == "Bundle" else []:
        if "resource" in entry:  # a transaction-response's entries may hold only a response
            validate(entry["resource"])
    return resource


class FHIRClient:
    """Django's test client with a bearer token, speaking application/fhir+json."""

    def __init__(self, client, user=None, token: str | None = None) -> None:
        self.client = client
        self.token = token or (make_token(user) if user is not None else None)

    def _headers(self, headers: dict) -> dict:
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return headers

    def request(self, method: str, path: str, body=None, *, content_type=FHIR_JSON, **headers):
        data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
        kwargs = {"headers": self._headers(headers)}
        if data is not None:
            kwargs |= {"data": data, "content_type": content_type}
        response = getattr(self.client, method)(f"/fhir/{path.lstrip('/')}", **kwargs)
        if response.content:
            assert response["Content-Type"].startswith(FHIR_JSON), response["Content-Type"]
            response.fhir = validate(json.loads(response.content))
        return response

    def get(self, path: str, **headers):
        return self.request("get", path, **headers)

    def post(self, path: str, body, **kwargs):
        return self.request("post", path, body, **kwargs)

    def put(self, path: str, body, **kwargs):
        return self.request("put", path, body, **kwargs)


def outcome(response, status: int) -> str:
    """Assert the response is an OperationOutcome with `status`; its diagnostics."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response.fhir["resourceType"] == "OperationOutcome"
    return response.fhir["issue"][0]["diagnostics"]


def ids(bundle: dict, resource_type: str, mode: str = "match") -> list[str]:
    return [
        e["resource"]["id"]
        for e in bundle.get("entry", [])
        if e["resource"]["resourceType"] == resource_type and e["search"]["mode"] == mode
    ]
