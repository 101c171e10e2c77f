"""Downtime access: the latest pack to download or keep offline, and the passphrase page."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from csp.decorators import csp
from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from steadfast.accounts.access import can, requires
from steadfast.continuity import queries, services
from steadfast.continuity.forms import DowntimePassphraseForm
from steadfast.continuity.rendering import pack_policy

SERVICE_WORKER = Path(__file__).resolve().parent / "pack" / "service-worker.js"
MAX_QUEUED_OPENS = 100
# The pack carries its own policy (its script and style by hash, no requests); served from here
# it gets the same one as a header, in place of the site's.
PACK_POLICY = {**pack_policy(), "frame-ancestors": ["'none'"]}


def _urls() -> dict[str, str]:
    """Where the Downtime page's script and the service worker find things (one source)."""
    return {
        "cache": "steadfast-downtime-v1",  # a new name makes browsers start a fresh cache
        "page": reverse("continuity:downtime"),
        "pack": reverse("continuity:offline_copy"),
        "status": reverse("continuity:status"),
        "opens": reverse("continuity:record_opens"),
        "worker": reverse("continuity:service_worker"),
        "static": settings.STATIC_URL,
    }


def _stale_after() -> timedelta:
    """Two missed builds: the worker is stopped, failing, or has the wrong passphrase."""
    return timedelta(minutes=2 * settings.PACK_EVERY_MINUTES + 5)


@never_cache
@requires("download_downtime_pack")
def downtime(request):
    practice = request.user.practice
    latest = services.latest_pack(practice)
    return render(
        request,
        "continuity/downtime.jinja",
        {
            "page_title": "Downtime access",
            "nav_current": "downtime",
            "latest": latest,
            "stale": latest is not None and latest.age() > _stale_after(),
            "passphrase_set": queries.downtime_passphrase(practice) is not None,
            "node": settings.NODE_MODE,  # the pack is the central server's, copied
            "urls": _urls(),
            "every_minutes": settings.PACK_EVERY_MINUTES,
        },
    )


def _pack_response(request, *, attachment: bool) -> HttpResponse:
    latest = services.latest_pack(request.user.practice)
    try:
        handle = latest.path.open("rb") if latest else None
    except FileNotFoundError:  # pruned between listing and opening: there is a newer one
        handle = None
    if handle is None:
        messages.info(request, "There is no downtime pack to download yet.")
        return redirect("continuity:downtime")
    services.record_download(request.user, latest, offline_copy=not attachment)
    response = FileResponse(
        handle,
        as_attachment=attachment,
        filename=latest.name,
        content_type="text/html; charset=utf-8",
    )
    response["X-Pack-Id"] = latest.name
    response["X-Pack-Made-At"] = latest.made_at.isoformat()
    response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
@requires("download_downtime_pack")
@csp(PACK_POLICY)
def download(request):
    """The latest pack as a file to save (a USB stick, a phone, the desktop)."""
    return _pack_response(request, attachment=True)


@require_GET
@requires("download_downtime_pack")
@csp(PACK_POLICY)
def offline_copy(request):
    """The latest pack to show in the browser; the service worker keeps it for offline use."""
    return _pack_response(request, attachment=False)


@never_cache
@require_GET
@requires("download_downtime_pack")
def status(request):
    """The latest pack's id and time, for the page to tell whether its kept copy is current."""
    latest = services.latest_pack(request.user.practice)
    if latest is None:
        return JsonResponse({"pack": None})
    return JsonResponse(
        {"pack": latest.name, "made_at": latest.made_at.isoformat(), "size": latest.size}
    )


class _BadOpens(ValueError):
    pass


def _parse_opens(body: bytes, ods_code: str) -> list[tuple[str, datetime]]:
    try:
        items = json.loads(body)["opens"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _BadOpens('Send JSON: {"opens": [{"pack": ..., "at": ...}]}') from exc
    if not isinstance(items, list) or len(items) > MAX_QUEUED_OPENS:
        raise _BadOpens(f"Send a list of at most {MAX_QUEUED_OPENS} openings")
    latest_allowed = timezone.now() + timedelta(minutes=5)
    opens = []
    for item in items:
        if not isinstance(item, dict):
            raise _BadOpens("Each opening is an object with `pack` and `at`")
        name, at = item.get("pack"), item.get("at")
        match = services.PACK_NAME.match(name) if isinstance(name, str) else None
        if match is None or match["ods"] != ods_code:
            raise _BadOpens("An opening names a pack that is not one of this practice's")
        try:
            opened_at = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except (AttributeError, ValueError) as exc:
            raise _BadOpens("An opening's `at` is not an ISO 8601 time") from exc
        if opened_at.tzinfo is None or opened_at > latest_allowed:
            raise _BadOpens("An opening's `at` must be a past time with its offset")
        opens.append((name, opened_at.astimezone(UTC)))
    return opens


@require_POST
@requires("download_downtime_pack")
def record_opens(request):
    """Openings of the browser's offline copy, queued while the server could not be reached."""
    try:
        opens = _parse_opens(request.body, request.user.practice.ods_code)
    except _BadOpens as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    services.record_opens(request.user, opens)
    return JsonResponse({"recorded": len(opens)})


@require_GET
def service_worker(request):
    """The service worker script (no patient data; anyone may fetch it). Served from under the
    Downtime access page so that its scope covers that page and the offline copy."""
    config = json.dumps(_urls())
    script = f"const CONFIG = {config};\n{SERVICE_WORKER.read_text(encoding='utf-8')}"
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@requires("set_downtime_passphrase")
def passphrase(request):
    practice = request.user.practice
    form = DowntimePassphraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.set_downtime_passphrase(practice, form.cleaned_data["passphrase"], request.user)
        messages.success(
            request,
            "The downtime passphrase is changed. Packs made from now on open with it; packs "
            "made before still open only with the old one.",
        )
        return redirect("continuity:downtime")
    if form.is_bound:
        form.forget_typed()
    return render(
        request,
        "continuity/passphrase.jinja",
        {
            "page_title": "Downtime passphrase",
            "nav_current": "downtime",
            "form": form,
            "current": queries.downtime_passphrase(practice),
            "can_download": can(request.user, "download_downtime_pack"),
        },
        status=400 if request.method == "POST" else 200,
    )
