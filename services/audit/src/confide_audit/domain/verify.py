"""Verification of one chain: recompute every leaf and link, and every
checkpoint's tree root, in one streaming pass."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from confide_contracts.audit_export import canonical_document
from confide_tlog.merkle import CompactRange, leaf_hash
from confide_tlog.note import ED25519, BadNote, Verifier, open_checkpoint

from confide_audit.domain.entry import GENESIS, AccessFacts, canonical, chain_link

if TYPE_CHECKING:
    from confide_audit.domain.retention import Horizon


@dataclass(slots=True)
class StoredEntry:
    """An entry as read back to be checked (made once per entry of the trail:
    not frozen, whose every field costs a call, and its facts as a mapping).
    ``document``: the row as the hashed document (``DOCUMENT_FIELDS``, its
    timestamps in the canonical form, its chain the one verified), when it was
    read so."""

    seq: int
    recorded_at: datetime | str
    facts: AccessFacts | Mapping[str, Any]
    leaf_hash: bytes
    chain_hash: bytes
    document: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root_hash: bytes
    note: str


@dataclass(frozen=True)
class Fault:
    chain: int
    seq: int | None
    kind: str  # modified | deleted | inserted | reordered | bad_signature | root_mismatch
    detail: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "checkpoint"
        return f"chain {self.chain} {where}: {self.kind}: {self.detail}"


@dataclass
class Report:
    chain: int
    entries: int = 0
    checkpoints: int = 0
    faults: list[Fault] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults


def _leaf(chain: int, seq: int, entry: StoredEntry) -> bytes:
    if entry.document is not None and seq == entry.seq:
        return leaf_hash(canonical_document(entry.document))  # (as read: no copy to make)
    return leaf_hash(canonical(chain, seq, entry.recorded_at, entry.facts))


def verify_chain(
    chain: int,
    entries: Iterable[StoredEntry],
    checkpoints: Iterable[StoredCheckpoint],
    key_name: str,
    public_keys: list[bytes],
    origin: str,
    start: Horizon | None = None,
) -> Report:
    """Check ``entries`` (in seq order) and ``checkpoints`` (in size order).

    ``start`` is where a purged chain begins (its first seq, the link before it
    and the Merkle frontier there); checkpoints older than that keep only their
    signatures to check. Stops at the first fault in the entries (everything after it is suspect)
    and names its sequence number and kind; checkpoint signatures are all
    checked.
    """
    report = Report(chain)
    first = start.first_seq if start else 0
    tree = CompactRange(first, start.frontier) if start else CompactRange()
    pending = []
    for cp in sorted(checkpoints, key=lambda c: c.size):
        report.checkpoints += 1
        if _signature_ok(cp, key_name, public_keys, origin):
            if cp.size > first or (cp.size == first and cp.root_hash != tree.root()):
                pending.append(cp)  # one exactly at the horizon is checked against it below
        else:
            # a forged checkpoint proves nothing: reported, and not used below
            report.faults.append(Fault(chain, None, "bad_signature",
                                       f"checkpoint of size {cp.size} is not signed by {key_name}"))
    previous_chain = start.chain_hash if start else GENESIS
    expected = first
    last_good_checkpoint = first
    if pending and pending[0].size == first:
        report.faults.insert(0, Fault(chain, first, "root_mismatch",
                                      f"the purge horizon at {first} does not match the checkpoint there"))
        return report
    stream: Iterator[StoredEntry] = iter(entries)
    lookahead: StoredEntry | None = None

    def next_entry() -> StoredEntry | None:
        nonlocal lookahead
        if lookahead is not None:
            item, lookahead = lookahead, None
            return item
        return next(stream, None)

    def peek() -> StoredEntry | None:
        nonlocal lookahead
        if lookahead is None:
            lookahead = next(stream, None)
        return lookahead

    while (entry := next_entry()) is not None:
        fault = _check(chain, expected, entry, previous_chain, peek)
        if fault is not None:
            report.faults.insert(0, fault)
            return report
        tree.append(entry.leaf_hash)
        previous_chain = entry.chain_hash
        expected += 1
        report.entries += 1
        while pending and pending[0].size == tree.size:
            cp = pending.pop(0)
            if cp.root_hash != tree.root():
                report.faults.insert(0, Fault(
                    chain, None, "root_mismatch",
                    f"entries {last_good_checkpoint}..{cp.size - 1} do not hash to the signed root of "
                    f"the checkpoint of size {cp.size}: one of them was altered and rehashed",
                ))
                return report
            last_good_checkpoint = cp.size
    for cp in pending:
        report.faults.append(Fault(chain, cp.size - 1 if cp.size else None, "deleted",
                                   f"checkpoint of size {cp.size} but the chain ends at {expected}"))
    return report


def _signature_ok(cp: StoredCheckpoint, key_name: str, public_keys: list[bytes], origin: str) -> bool:
    try:
        checkpoint = open_checkpoint(cp.note, [Verifier(key_name, ED25519, key) for key in public_keys])
    except BadNote:
        return False
    return checkpoint.size == cp.size and checkpoint.root_hash == cp.root_hash and checkpoint.origin == origin


def _hashable(entry: StoredEntry) -> bool:
    """Its times in the canonical form (PostgreSQL gives none for a time the form cannot hold)."""
    try:
        canonical(0, 0, entry.recorded_at, entry.facts)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _check(chain, expected, entry, previous_chain, peek) -> Fault | None:
    if entry.seq > expected:
        return Fault(chain, expected, "deleted", f"entries {expected}..{entry.seq - 1} are missing")
    if entry.seq < expected:
        return Fault(chain, entry.seq, "inserted", f"a second entry with seq {entry.seq}")
    recomputed = _leaf(chain, entry.seq, entry)
    if recomputed != entry.leaf_hash:
        # an entry hashed for another position tells how the chain was rearranged
        if not _hashable(entry):
            return Fault(chain, entry.seq, "modified", "a time in it is outside what an entry can hold")
        if entry.seq > 0 and _leaf(chain, entry.seq - 1, entry) == entry.leaf_hash:
            return Fault(chain, entry.seq - 1, "inserted",
                         f"an entry was inserted at seq {entry.seq - 1}, pushing the rest down")
        if _leaf(chain, entry.seq + 1, entry) == entry.leaf_hash:
            following = peek()
            if following is not None and _hashable(following) and \
                    _leaf(chain, entry.seq, following) == following.leaf_hash:
                return Fault(chain, entry.seq, "reordered",
                             f"the entries of seq {entry.seq} and {entry.seq + 1} were swapped")
            return Fault(chain, entry.seq, "deleted",
                         f"the entry of seq {entry.seq} was removed and the rest renumbered")
        return Fault(chain, entry.seq, "modified", "its content does not match its hash")
    if chain_link(previous_chain, entry.leaf_hash) != entry.chain_hash:
        return Fault(chain, entry.seq, "modified",
                     "its link to the previous entry is broken: it was altered and rehashed")
    return None
