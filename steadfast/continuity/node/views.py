"""The node-only staff endpoint (central server), and the managers' page of node tokens."""

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from steadfast.accounts.access import can, requires
from steadfast.audit import services as audit
from steadfast.continuity.node import queries
from steadfast.continuity.node.staff import staff_etag, staff_export
from steadfast.continuity.node.tokens import is_node_token, principal_for, revoke_node_token


def _bearer(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@require_GET
def staff(request):
    """Every account of the node's practice, with password hashes and authenticator keys."""
    token = _bearer(request)
    node = principal_for(token) if is_node_token(token) else None
    if node is None:
        return JsonResponse(
            {"error": "A live node token is required."},
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not can(node, "follow_practice"):
        return JsonResponse({"error": "This token may not copy staff accounts."}, status=403)
    etag = staff_etag(node.practice_id)
    if request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=304, headers={"ETag": etag})
    count, listing = staff_export(node.practice)
    audit.record("node_staff_copy", user=node, detail=f"{count} staff accounts", read_only=True)
    return JsonResponse(listing, headers={"ETag": etag, "Cache-Control": "no-store"})


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
