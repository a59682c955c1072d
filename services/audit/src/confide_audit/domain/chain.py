"""Appending to a chain: sequence numbers, hash links, Merkle frontier and the
tiles (perfect subtree hashes) kept for proofs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from confide_contracts.audit_export import timestamp
from confide_tlog.merkle import CompactRange

from confide_audit.domain.entry import GENESIS, AccessFacts, Entry, make_entry

TILE_WIDTHS = (256, 65536)


@dataclass
class ChainHead:
    chain: int
    size: int = 0
    chain_hash: bytes = GENESIS
    frontier: list[bytes] = field(default_factory=list)


class Appending:
    """The entries ``batch`` becomes at the end of the chain, made as they are
    iterated: the writer hashes the next entries while PostgreSQL stores the last
    ones (``confide_audit.store.write_batch``). Once every entry is made,
    ``entries``, ``tiles`` (width, start, hash) and the new ``head`` are there;
    iterating again gives the same entries."""

    def __init__(self, head: ChainHead, batch: Sequence[AccessFacts], recorded_at: datetime) -> None:
        self.start = head
        self.batch = batch
        self.recorded_at = recorded_at
        self.entries: list[Entry] = []
        self.tiles: list[tuple[int, int, bytes]] = []
        self.head = head  # the new head once every entry is made
        self._made = False

    def __len__(self) -> int:
        return len(self.batch)

    def __iter__(self) -> Iterator[Entry]:
        if self._made:
            yield from self.entries
            return
        head = self.start
        self.entries, self.tiles = [], []  # (a pass left unfinished starts again from the start)
        tree = CompactRange(head.size, head.frontier)

        def keep(start: int, width: int, digest: bytes) -> None:
            if width in TILE_WIDTHS:
                self.tiles.append((width, start, digest))

        previous = head.chain_hash
        stamp = timestamp(self.recorded_at)  # (one for the batch)
        for facts in self.batch:
            entry = make_entry(head.chain, tree.size, self.recorded_at, facts, previous, stamp)
            tree.append(entry.leaf_hash, keep)
            previous = entry.chain_hash
            self.entries.append(entry)
            yield entry
        self.head = ChainHead(head.chain, tree.size, previous, list(tree.hashes))
        self._made = True


def append(head: ChainHead, batch: Sequence[AccessFacts], recorded_at: datetime) -> Appending:
    """The entries ``batch`` becomes at the end of the chain, and the new head, all made."""
    appending = Appending(head, batch, recorded_at)
    for _ in appending:
        pass
    return appending


def root_of(head: ChainHead) -> bytes:
    return CompactRange(head.size, head.frontier).root()
