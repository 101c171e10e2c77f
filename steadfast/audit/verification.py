"""Checking the audit trail: every entry against its hash and its chain, each chain against its
signed head, and each chain against the checkpoints kept outside the database.

The chain alone shows an entry altered, inserted, deleted from the middle or moved; the head,
entries deleted from the end; the checkpoints, what the database alone cannot show: a chain cut
short together with its head, an old head written back, a chain or the whole trail wiped.
"""

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from steadfast.audit.chain import GENESIS, chain_name, head_signature, key
from steadfast.audit.checkpoints import Checkpoint, CheckpointFile


@dataclass(frozen=True)
class Head:
    last_seq: int
    last_event_id: int
    last_hash: str
    signature: str


@dataclass(frozen=True)
class _Suspect:
    """An entry whose hash does not match its content: altered, or slipped in."""

    id: int
    seq: int
    expected_prev: str
    stored: str


@dataclass
class _Hole:
    first: int
    last: int
    before_entry: int


@dataclass
class Report:
    checked: int = 0
    chains: int = 0
    checkpoints: int = 0
    missing: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


class ChainWalk:
    """One chain's entries, read in id order (the order they were appended in)."""

    def __init__(
        self,
        chain: str,
        head: Head | None,
        checkpoints: dict[int, Checkpoint],
        head_now: Callable[[], Head | None],
    ):
        """`head` was read before the entries; `head_now()` reads it again after them."""
        self.chain, self.name = chain, chain_name(chain)
        self.head, self.head_now = head, head_now
        self.head_genuine = head is not None and head.signature == head_signature(
            chain, head.last_seq, head.last_event_id, head.last_hash
        )
        self.checkpoints = checkpoints
        self.prev, self.seq, self.last_id, self.count = GENESIS, 0, 0, 0
        self.suspect: _Suspect | None = None
        self.holes: list[_Hole] = []
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(f"{self.name}: {text}")

    def step(self, id_: int, seq: int, valid: bool, prev_hash: str, stored: str) -> None:
        self.count += 1
        if self.suspect is not None:
            self._resolve(self.suspect, next_prev=prev_hash, next_seq=seq)
        checkpoint = self.checkpoints.get(seq)
        if valid and checkpoint is not None and checkpoint.hash != stored:
            self.problem(
                f"entry {id_} is not the entry checkpointed at place {seq} ({_when(checkpoint)}):"
                " the chain was rolled back and written again"
            )
        if not valid:
            if self.head_genuine and id_ > self.head.last_event_id:
                self.problem(f"entry {id_} was inserted after the last recorded entry")
            else:
                self.suspect = _Suspect(id_, seq, self.prev, stored)
            return
        if prev_hash == self.prev:
            if seq != self.seq + 1:
                self.problem(f"entry {id_} is numbered {seq} where {self.seq + 1} belongs")
            self._advance(id_, seq, stored)
        elif seq > self.seq + 1:
            self.holes.append(_Hole(self.seq + 1, seq - 1, id_))
            self._advance(id_, seq, stored)
        elif seq <= self.seq:
            self._fill_hole(seq)
            self.problem(
                f"entry {id_} is out of order: place {seq} was moved after place {self.seq}"
            )
        else:
            self.problem(f"entry {id_} does not follow entry {self.last_id}")
            self._advance(id_, seq, stored)

    def _advance(self, id_: int, seq: int, stored: str) -> None:
        self.prev, self.seq, self.last_id = stored, seq, id_

    def _fill_hole(self, seq: int) -> None:
        """A place thought deleted turned up later in id order: it was moved, not deleted."""
        for hole in self.holes:
            if hole.first <= seq <= hole.last:
                self.holes.remove(hole)
                if hole.first < seq:
                    self.holes.append(_Hole(hole.first, seq - 1, hole.before_entry))
                if seq < hole.last:
                    self.holes.append(_Hole(seq + 1, hole.last, hole.before_entry))
                return

    def _resolve(self, s: _Suspect, next_prev: str | None, next_seq: int | None) -> None:
        """The chain carries on past an inserted entry, but not past an altered one."""
        self.suspect = None
        if next_prev == s.expected_prev:
            self.problem(f"entry {s.id} was inserted (it is not part of the chain)")
            return
        self.problem(f"entry {s.id} was altered")
        # The next entry's link vouches for what the altered entry's hash was.
        self._advance(s.id, s.seq, next_prev if next_seq == s.seq + 1 else s.stored)

    def finish(self) -> int:
        """Name what is missing; returns how many entries are."""
        if self.suspect is not None:
            head_hash = self.head.last_hash if self.head_genuine else None
            head_seq = self.head.last_seq if self.head_genuine else None
            self._resolve(self.suspect, head_hash, None if head_seq is None else head_seq + 1)
        missing = 0
        for hole in sorted(self.holes, key=lambda h: h.first):
            size = hole.last - hole.first + 1
            missing += size
            places = f"place {hole.first}" if size == 1 else f"places {hole.first} to {hole.last}"
            self.problem(f"{_entries(size)} deleted before entry {hole.before_entry} ({places})")
        return missing + max(self._check_head(), self._check_checkpoints())

    def _check_head(self) -> int:
        head = self.head
        if head is None:
            if self.count:
                self.problem("the chain head was deleted")
            return 0
        if not self.head_genuine:
            self.problem("the chain head was altered")
            return 0
        if head.last_seq > self.seq:
            gone = head.last_seq - self.seq
            if self.count == 0:
                self.problem(f"all its entries ({gone}) were deleted")
            else:
                self.problem(
                    f"{_entries(gone)} deleted after entry {self.last_id}"
                    f" (the chain head records place {head.last_seq})"
                )
            return gone
        if head.last_seq < self.seq and not self._head_moved_on():
            self.problem(
                f"the chain head records place {head.last_seq} but the chain goes on to place"
                f" {self.seq}: an old head was written back"
            )
        elif head.last_seq == self.seq and head.last_hash != self.prev:
            self.problem("the chain head does not match the chain's newest entry")
        return 0

    def _head_moved_on(self) -> bool:
        """Entries past the head read before the walk were appended during it, if the head
        now (genuinely) records them."""
        now = self.head_now()
        return (
            now is not None
            and now.last_seq >= self.seq
            and now.signature
            == head_signature(self.chain, now.last_seq, now.last_event_id, now.last_hash)
        )

    def _check_checkpoints(self) -> int:
        if not self.checkpoints:
            return 0
        latest = self.checkpoints[max(self.checkpoints)]
        if latest.seq <= self.seq:
            return 0
        gone = latest.seq - self.seq
        if self.count == 0:
            self.problem(
                f"the chain is empty, but was checkpointed at place {latest.seq}"
                f" ({_when(latest)}): it was wiped"
            )
        else:
            self.problem(
                f"the chain ends at place {self.seq}, but was checkpointed at place {latest.seq}"
                f" ({_when(latest)}): {_entries(gone)} cut from its end or rolled back"
            )
        return gone


def _entries(n: int) -> str:
    return "1 entry was" if n == 1 else f"{n} entries were"


def _when(checkpoint: Checkpoint) -> str:
    """24 Nov 2026 14:05:09, in the practice's time."""
    at = timezone.localtime(datetime.fromisoformat(checkpoint.at))
    return f"{at:%-d %b %Y %H:%M:%S}"


def verify_trail(
    rows: Iterable[tuple[int, str, int, str, str, str]],
    heads: dict[str, Head],
    checkpoints: CheckpointFile,
    heads_now: Callable[[], dict[str, Head]] | None = None,
) -> Report:
    """Walk (id, chain, seq, canonical text, prev_hash, hash) rows in id order. `heads` were
    read before the rows; `heads_now()` reads them again, for chains that grew meanwhile."""
    secret = key()
    walks: dict[str, ChainWalk] = {}
    reread: list[dict[str, Head]] = []

    def head_now(chain: str) -> Head | None:
        if not reread:
            reread.append(heads_now() if heads_now else heads)
        return reread[0].get(chain)

    def walk_of(chain: str) -> ChainWalk:
        if chain not in walks:
            walks[chain] = ChainWalk(
                chain,
                heads.get(chain),
                checkpoints.by_chain.get(chain, {}),
                head_now=lambda: head_now(chain),
            )
        return walks[chain]

    report = Report(checkpoints=checkpoints.total, problems=list(checkpoints.problems))
    for id_, chain, seq, text, prev_hash, stored in rows:
        report.checked += 1
        valid = hmac.new(secret, text.encode(), hashlib.sha256).hexdigest() == stored
        walk = walks.get(chain) or walk_of(chain)
        if (  # the common case, inline: the next entry, in place, nothing pending
            valid
            and prev_hash == walk.prev
            and seq == walk.seq + 1
            and walk.suspect is None
            and seq not in walk.checkpoints
        ):
            walk.prev, walk.seq, walk.last_id = stored, seq, id_
            walk.count += 1
            continue
        walk.step(id_, seq, valid, prev_hash, stored)
    if report.checked == 0 and checkpoints.total:
        report.problems.append(
            f"the audit trail is empty, but {checkpoints.path} holds {checkpoints.total}"
            f" checkpoints of {len(checkpoints.by_chain)} chains: the trail was wiped"
        )
    for chain in [*heads, *checkpoints.by_chain]:
        walk_of(chain)
    for walk in walks.values():
        report.missing += walk.finish()
        report.problems.extend(walk.problems)
    report.chains = len(walks)
    return report
