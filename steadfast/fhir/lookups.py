"""Finding one row by the id in a URL or reference: anything unknown or malformed is a 404."""

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import QuerySet

from steadfast.fhir.errors import FHIRError


def one_or_404(queryset: QuerySet, resource_type: str, resource_id: str):
    try:
        return queryset.get(pk=resource_id)
    except (ObjectDoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise FHIRError(404, f"No {resource_type} with id {resource_id!r}.") from exc


def one_or_422(queryset: QuerySet, resource_type: str, resource_id: str):
    """For references inside a submitted resource: the resource is unprocessable, not missing."""
    try:
        return queryset.get(pk=resource_id)
    except (ObjectDoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise FHIRError(422, f"The referenced {resource_type} {resource_id!r} is unknown.") from exc
