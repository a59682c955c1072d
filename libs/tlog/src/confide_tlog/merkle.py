"""RFC 6962 (Certificate Transparency) Merkle tree hashing and proofs.

Leaves are hashed as SHA-256(0x00 || data), interior nodes as
SHA-256(0x01 || left || right). The tree of n leaves splits at the largest
power of two smaller than n (RFC 6962 section 2.1).

Hashes of *perfect, aligned* subtrees are what storage provides (see
:class:`SubtreeSource`); every other hash, proof and root is computed from them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The k of RFC 6962: the largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class SubtreeSource(Protocol):
    def perfect(self, start: int, size: int) -> bytes:
        """Hash of the perfect subtree of ``size`` (a power of two) leaves from
        ``start`` (a multiple of ``size``)."""
        ...


class InMemoryLeaves:
    """A :class:`SubtreeSource` over a list of leaf hashes (tests, small trees)."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.leaves = leaves

    def perfect(self, start: int, size: int) -> bytes:
        level = list(self.leaves[start : start + size])
        while len(level) > 1:
            level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        return level[0]


def subtree_hash(source: SubtreeSource, start: int, n: int) -> bytes:
    """MTH of the ``n`` leaves from ``start`` (RFC 6962 2.1)."""
    if n == 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and start % n == 0:
        return source.perfect(start, n)
    k = largest_power_of_two_below(n)
    return node_hash(subtree_hash(source, start, k), subtree_hash(source, start + k, n - k))


def root(source: SubtreeSource, size: int) -> bytes:
    return subtree_hash(source, 0, size)


def inclusion_proof(source: SubtreeSource, index: int, size: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 2.1.1: the audit path for leaf ``index``."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")

    def path(m: int, start: int, n: int) -> list[bytes]:
        if n == 1:
            return []
        k = largest_power_of_two_below(n)
        if m < k:
            return [*path(m, start, k), subtree_hash(source, start + k, n - k)]
        return [*path(m - k, start + k, n - k), subtree_hash(source, start, k)]

    return path(index, 0, size)


def consistency_proof(source: SubtreeSource, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 2.1.2: the tree of ``old_size`` is a prefix of
    the tree of ``new_size``."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")

    def subproof(m: int, start: int, n: int, complete: bool) -> list[bytes]:
        if m == n:
            return [] if complete else [subtree_hash(source, start, n)]
        k = largest_power_of_two_below(n)
        if m <= k:
            return [*subproof(m, start, k, complete), subtree_hash(source, start + k, n - k)]
        return [*subproof(m - k, start + k, n - k, False), subtree_hash(source, start, k)]

    return subproof(old_size, 0, new_size, True)


# --- verification (RFC 9162 section 2.1.3.2 and 2.1.4.2) --------------------


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes) -> bool:
    if index >= size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    if old_size == new_size:
        return old_root == new_root and not proof
    if old_size == 0 or old_size > new_size or not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


class CompactRange:
    """The roots of the perfect subtrees that make up a tree of ``size`` leaves
    (the right frontier), largest first. Appending a leaf costs one hash on
    average, and the root is a fold of at most log2(size) hashes.

    Whenever appending completes a perfect subtree of ``TILE`` leaves (or a
    multiple), ``on_subtree(start, size, hash)`` is told, so storage can keep
    those hashes for proofs.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != bin(size).count("1"):
            raise ValueError("compact range does not match its size")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes, on_subtree=None) -> None:
        self.hashes.append(leaf)
        self.size += 1
        # merge while the lowest set bits say two equal subtrees sit side by side
        width, merged = 1, self.size
        while merged & 1 == 0:
            right = self.hashes.pop()
            left = self.hashes.pop()
            self.hashes.append(node_hash(left, right))
            width <<= 1
            merged >>= 1
            if on_subtree is not None:
                on_subtree(self.size - width, width, self.hashes[-1])

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        r = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            r = node_hash(h, r)
        return r
