"""Making, checking and revoking node tokens.

A token reads `sfnode.<id>.<secret>`. It stands for the node, not for a person: its principal
has the role `practice_node`, whose one activity is `follow_practice`. A revoked token is refused
on its next request, since every request looks the token up.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from steadfast.accounts.access import NODE_ROLE, require
from steadfast.audit import services as audit
from steadfast.continuity.node.models import NodeToken

PREFIX = "sfnode."
LAST_USED_EVERY = timedelta(minutes=1)  # how stale `last_used_at` may be (saves a write a poll)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_node_token(practice, name: str, by=None) -> tuple[NodeToken, str]:
    """A new token for the node `name` of `practice`: the row and the token text (shown once)."""
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = NodeToken.objects.create(
            practice=practice, name=name.strip(), secret_sha256=_digest(secret), created_by=by
        )
        audit.record(
            "issue_node_token",
            user=by,
            practice_id=practice.pk,
            detail=f"node token {token.pk} ({token.name})",
        )
    return token, f"{PREFIX}{token.pk.hex}.{secret}"


def revoke_node_token(token: NodeToken, by=None) -> NodeToken:
    """Revoke at once. `by` is the practice manager on the page; None is the command line."""
    if by is not None:
        require(by, "manage_practice_nodes", practice_id=token.practice_id)
    with transaction.atomic():
        updated = NodeToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=by
        )
        if updated:
            audit.record(
                "revoke_node_token",
                user=by,
                practice_id=token.practice_id,
                detail=f"node token {token.pk} ({token.name})",
            )
    token.refresh_from_db()
    return token


@dataclass(frozen=True)
class NodePrincipal:
    """Who a request with a node token is: enough of a user for access checks and the audit."""

    token: NodeToken
    pk = None
    role = NODE_ROLE
    is_authenticated = True
    is_active = True

    @property
    def practice_id(self):
        return self.token.practice_id

    @property
    def practice(self):
        return self.token.practice

    @property
    def username(self) -> str:
        return f"node:{self.token.name}"[:150]

    @property
    def display_name(self) -> str:
        return f"Practice node {self.token.name}"


def is_node_token(text: str) -> bool:
    return text.startswith(PREFIX)


def principal_for(text: str) -> NodePrincipal | None:
    """The node a live token stands for, or None (malformed, unknown, wrong secret, revoked)."""
    token_id, _, secret = text.removeprefix(PREFIX).partition(".")
    try:
        token = NodeToken.objects.select_related("practice").get(pk=UUID(hex=token_id))
    except (ValueError, NodeToken.DoesNotExist):
        return None
    if token.revoked_at is not None or not hmac.compare_digest(
        token.secret_sha256, _digest(secret)
    ):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        NodeToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return NodePrincipal(token)
