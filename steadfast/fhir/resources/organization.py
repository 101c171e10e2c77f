"""Organization and Location: the user's own practice, identified by its ODS code, and its
premises (one Location per practice, with the same id)."""

from ninja import Router

from steadfast.fhir.access import requires
from steadfast.fhir.bundles import searchset
from steadfast.fhir.capabilities import ODS_CODE, search_openapi
from steadfast.fhir.http import fhir_response
from steadfast.fhir.lookups import one_or_404
from steadfast.fhir.search import check_parameters, paging
from steadfast.practices.models import Practice

router = Router(tags=["Organization"])


def organization(practice) -> dict:
    return {
        "resourceType": "Organization",
        "id": str(practice.pk),
        "identifier": [{"system": ODS_CODE, "value": practice.ods_code}],
        "active": True,
        "name": practice.name,
        "telecom": [{"system": "phone", "value": practice.phone, "use": "work"}]
        if practice.phone
        else None,
        "address": [
            {
                "use": "work",
                "line": [x for x in (practice.address_line1, practice.address_line2) if x],
                "city": practice.town,
                "postalCode": practice.postcode,
            }
        ],
    }


def _own_practice(request, resource_type: str, resource_id: str) -> Practice:
    own = Practice.objects.filter(pk=request.user.practice_id)
    return one_or_404(own, resource_type, resource_id)


@router.get("/Organization/{resource_id}", url_name="organization_read")
@requires("view_appointment_book")
def read_organization(request, resource_id: str):
    return fhir_response(organization(_own_practice(request, "Organization", resource_id)))


@router.get(
    "/Organization", url_name="organization_search", openapi_extra=search_openapi("Organization")
)
@requires("view_appointment_book")
def search_organizations(request):
    check_parameters(request, {"identifier"})
    page = paging(request)
    practice = request.user.practice
    found = [practice]
    for token in request.GET.getlist("identifier"):
        system, _, value = token.rpartition("|")
        if system not in ("", ODS_CODE) or value.upper() != practice.ods_code:
            found = []
    matches = [organization(p) for p in found[page.offset : page.offset + page.count]]
    return fhir_response(searchset(request, len(found), matches, page))


def location(practice) -> dict:
    return {
        "resourceType": "Location",
        "id": str(practice.pk),
        "status": "active",
        "name": practice.name,
        "mode": "instance",
        "address": organization(practice)["address"][0],
        "managingOrganization": {"reference": f"Organization/{practice.pk}"},
    }


@router.get("/Location/{resource_id}", url_name="location_read")
@requires("view_appointment_book")
def read_location(request, resource_id: str):
    return fhir_response(location(_own_practice(request, "Location", resource_id)))


@router.get("/Location", url_name="location_search", openapi_extra=search_openapi("Location"))
@requires("view_appointment_book")
def search_locations(request):
    check_parameters(request, set())
    page = paging(request)
    found = [request.user.practice]
    matches = [location(p) for p in found[page.offset : page.offset + page.count]]
    return fhir_response(searchset(request, len(found), matches, page))
