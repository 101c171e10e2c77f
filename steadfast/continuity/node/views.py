"""The node-only endpoints of the central server (staff accounts, the latest downtime pack), and
the managers' page of node tokens."""

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from steadfast.accounts.access import can, requires
from steadfast.audit import services as audit
from steadfast.continuity import services as packs
from steadfast.continuity.node import queries
from steadfast.continuity.node.staff import staff_etag, staff_export
from steadfast.continuity.node.tokens import is_node_token, principal_for, revoke_node_token


def _bearer(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _node_or_refusal(request):
    """(the node a live node token stands for, None) or (None, the 401/403 to answer)."""
    token = _bearer(request)
    node = principal_for(token) if is_node_token(token) else None
    if node is None:
        refusal = JsonResponse(
            {"error": "A live node token is required."},
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
        return None, refusal
    if not can(node, "follow_practice"):
        return None, JsonResponse({"error": "This token may not copy the practice."}, status=403)
    return node, None


@require_GET
def staff(request):
    """Every account of the node's practice, with password hashes and authenticator keys."""
    node, refusal = _node_or_refusal(request)
    if refusal:
        return refusal
    etag = staff_etag(node.practice_id)
    if request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=304, headers={"ETag": etag})
    count, listing = staff_export(node.practice)
    audit.record("node_staff_copy", user=node, detail=f"{count} staff accounts", read_only=True)
    return JsonResponse(listing, headers={"ETag": etag, "Cache-Control": "no-store"})


@require_GET
def pack(request):
    """The practice's latest downtime pack, as the worker sealed it: the node keeps a copy for
    an outage without ever holding the passphrase. 204 until the first pack is made."""
    node, refusal = _node_or_refusal(request)
    if refusal:
        return refusal
    latest = packs.latest_pack(node.practice)
    try:
        handle = latest.path.open("rb") if latest else None
    except FileNotFoundError:  # pruned between listing and opening: there is a newer one
        handle = None
    if handle is None:
        return HttpResponse(status=204, headers={"Cache-Control": "no-store"})
    etag = f'"{latest.name}"'
    if request.headers.get("If-None-Match") == etag:
        handle.close()
        return HttpResponse(status=304, headers={"ETag": etag})
    audit.record("node_pack_copy", user=node, detail=latest.name, read_only=True)
    response = FileResponse(handle, content_type="text/html; charset=utf-8")
    response["ETag"] = etag
    response["X-Pack-Id"] = latest.name
    response["Cache-Control"] = "no-store"
    return response


@requires("manage_practice_nodes")
def tokens(request):
    return render(
        request,
        "node/tokens.jinja",
        {"page_title": "Practice nodes", "tokens": queries.node_tokens(request.user.practice)},
    )


@require_POST
@requires("manage_practice_nodes")
def revoke(request, token_id):
    token = queries.node_token(request.user.practice, token_id)
    if token is None:
        raise Http404("No such node token")
    revoke_node_token(token, by=request.user)
    messages.success(request, f"The token of {token.name} is revoked: that node stops at once.")
    return redirect("node:tokens")
