"""Appending to a chain: sequence numbers, hash links, Merkle frontier and the
tiles (perfect subtree hashes) kept for proofs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from confide_tlog.merkle import CompactRange

from confide_audit.domain.entry import GENESIS, AccessFacts, Entry, make_entry

TILE_WIDTHS = (256, 65536)


@dataclass
class ChainHead:
    chain: int
    size: int = 0
    chain_hash: bytes = GENESIS
    frontier: list[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class Appended:
    entries: list[Entry]
    head: ChainHead
    tiles: list[tuple[int, int, bytes]]  # (width, start, hash)


def append(head: ChainHead, batch: Sequence[AccessFacts], recorded_at: datetime) -> Appended:
    """The entries ``batch`` becomes at the end of the chain, and the new head."""
    tree = CompactRange(head.size, head.frontier)
    tiles: list[tuple[int, int, bytes]] = []

    def keep(start: int, width: int, digest: bytes) -> None:
        if width in TILE_WIDTHS:
            tiles.append((width, start, digest))

    previous = head.chain_hash
    entries = []
    for facts in batch:
        entry = make_entry(head.chain, tree.size, recorded_at, facts, previous)
        tree.append(entry.leaf_hash, keep)
        previous = entry.chain_hash
        entries.append(entry)
    return Appended(entries, ChainHead(head.chain, tree.size, previous, list(tree.hashes)), tiles)


def root_of(head: ChainHead) -> bytes:
    return CompactRange(head.size, head.frontier).root()
