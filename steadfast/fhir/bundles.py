"""Bundles: searchset results with paging links."""

from django.urls import reverse
from django.utils import timezone

from steadfast.fhir.search import Paging


def base_url(request) -> str:
    return request.build_absolute_uri(reverse("fhir:api-root")).rstrip("/")


def full_url(request, resource: dict) -> str:
    return f"{base_url(request)}/{resource['resourceType']}/{resource['id']}"


def _page_url(request, offset: int) -> str:
    query = request.GET.copy()
    query["_offset"] = str(offset)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def searchset(
    request, total: int, matches: list[dict], page: Paging, included: list[dict] = ()
) -> dict:
    links = [{"relation": "self", "url": _page_url(request, page.offset)}]
    if page.offset + page.count < total:
        links.append({"relation": "next", "url": _page_url(request, page.offset + page.count)})
    if page.offset > 0:
        previous = max(page.offset - page.count, 0)
        links.append({"relation": "previous", "url": _page_url(request, previous)})
    entries = [
        {"fullUrl": full_url(request, r), "resource": r, "search": {"mode": "match"}}
        for r in matches
    ]
    seen = set()
    for r in included:
        key = (r["resourceType"], r["id"])
        if key not in seen:
            seen.add(key)
            entries.append(
                {"fullUrl": full_url(request, r), "resource": r, "search": {"mode": "include"}}
            )
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": timezone.now().isoformat(),
        "total": total,
        "link": links,
        "entry": entries,
    }
