"""The NinjaAPI behind /fhir/: authentication, error handling, and every resource's router."""

from django.http import HttpRequest
from ninja import NinjaAPI, Router

from steadfast.fhir.auth import BearerToken
from steadfast.fhir.bundles import base_url
from steadfast.fhir.capabilities import capability_statement
from steadfast.fhir.errors import FHIRError, install_handlers
from steadfast.fhir.http import fhir_response
from steadfast.fhir.resources import (
    appointment,
    downtime,
    history,
    organization,
    patient,
    practitioner,
    record,
    scheduling,
    transaction,
)

api = NinjaAPI(
    title="Steadfast FHIR R4 API",
    version="4.0.1",
    description=(
        "HL7 FHIR R4 (UK Core identifiers): patients, the appointment book, booking, the patient"
        " record, and transaction Bundle import."
    ),
    urls_namespace="fhir",
    docs_url=None,
    openapi_url="/openapi.json",
    auth=BearerToken(),
)
install_handlers(api)

public = Router(tags=["Capabilities"])


@public.get("/metadata", auth=None, url_name="metadata")
def metadata(request: HttpRequest):
    """The CapabilityStatement: exactly the resources, interactions and searches supported."""
    return fhir_response(capability_statement(base_url(request)))


for module in (
    organization,
    practitioner,
    patient,
    scheduling,
    appointment,
    record,
    transaction,
    history,
    downtime,
):
    api.add_router("", module.router)
api.add_router("", public)

# Last, so it only answers what nothing else matched: an unknown path gets an OperationOutcome.
unknown = Router()


@unknown.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"],
    "/{path:rest}",
    auth=None,
    include_in_schema=False,
    url_name="unknown",
)
def unknown_path(request: HttpRequest, rest: str):
    raise FHIRError(404, "This server has no such resource type or operation; see /fhir/metadata.")


api.add_router("", unknown)
