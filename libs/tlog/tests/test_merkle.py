"""RFC 6962 trees and proofs, checked against an independent implementation
written here straight from the RFC's definitions (MTH, PATH, PROOF)."""

import pytest
from confide_tlog.merkle import (
    CompactRange,
    InMemoryLeaves,
    consistency_proof,
    inclusion_proof,
    root,
    verify_consistency,
    verify_inclusion,
)
from rfc6962 import MTH, PATH, SUBPROOF, H, independent_root_from_path

pytestmark = pytest.mark.unit  # pure: no PostgreSQL, RabbitMQ or OpenBao

DATA = [f"entry {i}".encode() for i in range(70)]
LEAVES = [H(b"\x00" + d) for d in DATA]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 64, 70])
def test_roots_match_the_rfc_definition(n):
    assert root(InMemoryLeaves(LEAVES[:n]), n) == MTH(DATA[:n])


def test_compact_range_root_matches_for_every_size():
    tree = CompactRange()
    completed = []
    for n, leaf in enumerate(LEAVES, start=1):
        tree.append(leaf, on_subtree=lambda start, size, h: completed.append((start, size, h)))
        assert tree.root() == MTH(DATA[:n])
    source = InMemoryLeaves(LEAVES)
    for start, size, h in completed:
        assert h == source.perfect(start, size)
    assert (0, 64, source.perfect(0, 64)) in completed


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 70])
def test_inclusion_proofs_match_and_check_out(n):
    source = InMemoryLeaves(LEAVES[:n])
    r = MTH(DATA[:n])
    for m in range(n):
        proof = inclusion_proof(source, m, n)
        assert proof == PATH(m, DATA[:n])
        assert independent_root_from_path(DATA[m], m, n, proof) == r
        assert verify_inclusion(LEAVES[m], m, n, proof, r)


def test_inclusion_proof_fails_for_a_wrong_leaf_or_root():
    n, m = 13, 6
    proof = inclusion_proof(InMemoryLeaves(LEAVES[:n]), m, n)
    r = MTH(DATA[:n])
    assert not verify_inclusion(LEAVES[m + 1], m, n, proof, r)
    assert not verify_inclusion(LEAVES[m], m, n, proof, H(b"forged"))
    assert not verify_inclusion(LEAVES[m], m + 1, n, proof, r)
    assert independent_root_from_path(DATA[m + 1], m, n, proof) != r


@pytest.mark.parametrize("old,new", [(1, 1), (1, 2), (3, 7), (4, 8), (6, 8), (7, 70), (64, 70), (70, 70)])
def test_consistency_proofs_match_and_check_out(old, new):
    source = InMemoryLeaves(LEAVES[:new])
    proof = consistency_proof(source, old, new)
    assert proof == SUBPROOF(old, DATA[:new], True)
    assert verify_consistency(old, new, MTH(DATA[:old]), MTH(DATA[:new]), proof)


def test_consistency_proof_fails_for_a_rewritten_history():
    proof = consistency_proof(InMemoryLeaves(LEAVES[:20]), 7, 20)
    forged_old = MTH([b"x"] + DATA[1:7])
    assert not verify_consistency(7, 20, forged_old, MTH(DATA[:20]), proof)
    assert not verify_consistency(7, 20, MTH(DATA[:7]), H(b"forged"), proof)


def test_out_of_range_proofs_are_refused():
    with pytest.raises(ValueError):
        inclusion_proof(InMemoryLeaves(LEAVES[:3]), 3, 3)
    with pytest.raises(ValueError):
        consistency_proof(InMemoryLeaves(LEAVES[:3]), 4, 3)
