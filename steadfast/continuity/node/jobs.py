"""The worker's node-follow and node-pack jobs (steadfast/jobs.py), on a practice node only."""

import logging

from steadfast.continuity.node.follow import FollowError, follow_once
from steadfast.continuity.node.pack import fetch_latest_pack
from steadfast.continuity.node.queries import follower_state

logger = logging.getLogger(__name__)


def follow_central_server() -> int:
    """One follow pass; returns the changes applied. A failure is recorded on the node's state
    (`steadfast node status`) and retried on the next run from the same cursor."""
    state = follower_state()
    if state is None:
        logger.warning("node-follow: this node is not set up (steadfast node init)")
        return 0
    try:
        return follow_once(state).changes
    except FollowError:
        return 0  # logged and recorded by follow_once


def copy_downtime_pack() -> bool:
    """Fetch the central server's latest downtime pack if the node's is older; True when a new
    one came. A failure is logged; the pack the node has stays."""
    state = follower_state()
    if state is None or state.practice_id is None:
        logger.warning("node-pack: this node is not set up (steadfast node init)")
        return False
    try:
        return fetch_latest_pack(state).new
    except FollowError as exc:
        logger.warning("node-pack: the latest downtime pack was not copied: %s", exc)
        return False
