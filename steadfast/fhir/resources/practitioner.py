"""Practitioner and PractitionerRole: the practice's clinicians (GPs, nurses, healthcare
assistants) and the role each holds there (same id as the Practitioner)."""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from ninja import Router

from steadfast.accounts.models import CLINICAL_ROLES
from steadfast.fhir.access import requires
from steadfast.fhir.bundles import searchset
from steadfast.fhir.capabilities import search_openapi
from steadfast.fhir.http import fhir_response
from steadfast.fhir.lookups import one_or_404
from steadfast.fhir.search import check_parameters, paging, reference_id

router = Router(tags=["Practitioner"])


def clinicians(practice_id) -> QuerySet:
    return get_user_model().objects.filter(
        practice_id=practice_id, role__in=CLINICAL_ROLES, is_active=True
    )


def clinician_id(reference: str, resource_type: str) -> int:
    """The user id a Practitioner, PractitionerRole or Schedule reference names (they share it);
    a non-number matches nobody."""
    raw = reference_id(reference, resource_type)
    return int(raw) if raw.isdigit() else -1


def practitioner(user) -> dict:
    name = {"use": "official", "family": user.last_name or user.username}
    if user.first_name:
        name["given"] = [user.first_name]
    if user.title:
        name["prefix"] = [user.title]
    return {
        "resourceType": "Practitioner",
        "id": str(user.pk),
        "active": user.is_active,
        "name": [name],
    }


@router.get("/Practitioner/{resource_id}", url_name="practitioner_read")
@requires("view_appointment_book")
def read_practitioner(request, resource_id: str):
    user = one_or_404(clinicians(request.user.practice_id), "Practitioner", resource_id)
    return fhir_response(practitioner(user))


@router.get(
    "/Practitioner", url_name="practitioner_search", openapi_extra=search_openapi("Practitioner")
)
@requires("view_appointment_book")
def search_practitioners(request):
    check_parameters(request, set())
    page = paging(request)
    found = clinicians(request.user.practice_id).order_by("last_name", "first_name", "pk")
    matches = [practitioner(u) for u in found[page.offset : page.offset + page.count]]
    return fhir_response(searchset(request, found.count(), matches, page))


def practitioner_role(user) -> dict:
    return {
        "resourceType": "PractitionerRole",
        "id": str(user.pk),
        "active": user.is_active,
        "practitioner": {"reference": f"Practitioner/{user.pk}"},
        "organization": {"reference": f"Organization/{user.practice_id}"},
        "location": [{"reference": f"Location/{user.practice_id}"}],
        "code": [{"text": user.get_role_display()}],
    }


@router.get("/PractitionerRole/{resource_id}", url_name="practitioner_role_read")
@requires("view_appointment_book")
def read_practitioner_role(request, resource_id: str):
    user = one_or_404(clinicians(request.user.practice_id), "PractitionerRole", resource_id)
    return fhir_response(practitioner_role(user))


@router.get(
    "/PractitionerRole",
    url_name="practitioner_role_search",
    openapi_extra=search_openapi("PractitionerRole"),
)
@requires("view_appointment_book")
def search_practitioner_roles(request):
    check_parameters(request, {"practitioner"})
    page = paging(request)
    found = clinicians(request.user.practice_id).order_by("last_name", "first_name", "pk")
    for reference in request.GET.getlist("practitioner"):
        found = found.filter(pk=clinician_id(reference, "Practitioner"))
    matches = [practitioner_role(u) for u in found[page.offset : page.offset + page.count]]
    return fhir_response(searchset(request, found.count(), matches, page))
