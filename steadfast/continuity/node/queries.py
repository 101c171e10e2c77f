"""Reads for the node pages."""

from steadfast.continuity.node.models import FollowerState, NodeToken


def node_tokens(practice) -> list[NodeToken]:
    return list(
        NodeToken.objects.filter(practice=practice)
        .select_related("created_by", "revoked_by")
        .order_by("revoked_at", "name")
    )


def follower_state() -> FollowerState | None:
    return FollowerState.objects.select_related("practice").first()


def node_token(practice, token_id) -> NodeToken | None:
    return NodeToken.objects.filter(practice=practice, pk=token_id).first()
