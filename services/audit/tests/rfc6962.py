"""An independent RFC 6962 implementation, straight from the RFC's definitions,
to check the service's trees and proofs against."""

import hashlib


def H(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def k_of(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def MTH(D: list[bytes]) -> bytes:
    n = len(D)
    if n == 0:
        return H(b"")
    if n == 1:
        return H(b"\x00" + D[0])
    k = k_of(n)
    return H(b"\x01" + MTH(D[:k]) + MTH(D[k:]))


def PATH(m: int, D: list[bytes]) -> list[bytes]:
    n = len(D)
    if n == 1:
        return []
    k = k_of(n)
    if m < k:
        return PATH(m, D[:k]) + [MTH(D[k:])]
    return PATH(m - k, D[k:]) + [MTH(D[:k])]


def SUBPROOF(m: int, D: list[bytes], b: bool) -> list[bytes]:
    n = len(D)
    if m == n:
        return [] if b else [MTH(D)]
    k = k_of(n)
    if m <= k:
        return SUBPROOF(m, D[:k], b) + [MTH(D[k:])]
    return SUBPROOF(m - k, D[k:], False) + [MTH(D[:k])]


def independent_root_from_path(leaf_data: bytes, m: int, n: int, path: list[bytes]) -> bytes:
    """Recompute MTH from one leaf and its audit path by retracing the RFC's recursion."""
    def walk(m, n, path):
        if n == 1:
            assert not path
            return H(b"\x00" + leaf_data)
        k = k_of(n)
        *rest, sibling = path
        if m < k:
            return H(b"\x01" + walk(m, k, rest) + sibling)
        return H(b"\x01" + sibling + walk(m - k, n - k, rest))
    return walk(m, n, path)
