"""The node's copy of the latest downtime pack, fetched already sealed from the central server.

The central server's worker builds the packs with the practice's passphrase; a node never holds
that passphrase. It asks `GET /node/pack` with its node token (If-None-Match: the pack it has)
and keeps only the newest in its own pack folder (0600), where its Downtime access page serves
it to signed-in staff exactly as the central server does.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

from steadfast.continuity import services as packs
from steadfast.continuity.node.follow import FollowError, get_from_upstream
from steadfast.continuity.node.models import FollowerState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackFetch:
    pack: packs.StoredPack | None  # the pack the node now has
    new: bool  # True when this fetch brought it


def fetch_latest_pack(state: FollowerState, folder: Path | None = None) -> PackFetch:
    """Keep the central server's latest pack for the node's practice, if newer than the node's.

    FollowError when the server cannot be reached or refuses the token; the pack the node had
    stays (an outage is when it is needed).
    """
    if state.practice is None:
        raise FollowError("the node has no practice yet: run `steadfast node init`")
    folder = folder or packs.pack_folder()
    have = packs.latest_pack(state.practice, folder)
    etag = f'"{have.name}"' if have else ""
    status, answered_etag, body = get_from_upstream(
        f"{state.upstream}/node/pack", state.token, etag, accept="text/html"
    )
    if status in (204, 304):  # no pack made yet, or the node has the latest
        return PackFetch(have, new=False)
    name = answered_etag.strip('"')
    match = packs.PACK_NAME.match(name)
    if match is None or match["ods"] != state.practice.ods_code:
        raise FollowError(f"the server sent a pack named {name!r}, not one of this practice's")
    if have is not None and name <= have.name:  # names sort by the time the pack was made
        return PackFetch(have, new=False)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    packs.write_atomically(folder / name, body, mode=0o600)
    for old in packs.stored_packs(state.practice, folder)[1:]:
        old.path.unlink(missing_ok=True)
    kept = packs.latest_pack(state.practice, folder)
    logger.info("downtime pack %s copied (%d bytes)", name, len(body))
    return PackFetch(kept, new=True)
