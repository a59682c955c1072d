"""The witness's rules as a pure function (the protocol over HTTP is test_protocol.py)."""

import hashlib

import pytest
from confide_tlog import merkle
from confide_tlog.note import Checkpoint
from confide_tlog.witness import AddCheckpoint
from confide_witness.domain.policy import NEVER, Latest, judge

pytestmark = pytest.mark.unit

LEAVES = [merkle.leaf_hash(bytes([i])) for i in range(10)]
TREE = merkle.InMemoryLeaves(LEAVES)


def at(size: int) -> Checkpoint:
    return Checkpoint("log.example/0", size, merkle.root(TREE, size))


def test_each_answer_of_the_protocol():
    five = Latest(5, merkle.root(TREE, 5))
    assert judge(AddCheckpoint(0, (), ""), at(5), NEVER).status == 200
    assert judge(AddCheckpoint(0, (), ""), at(5), five).status == 409
    assert judge(AddCheckpoint(5, tuple(merkle.consistency_proof(TREE, 5, 9)), ""), at(9), five).status == 200
    assert judge(AddCheckpoint(5, (), ""), at(3), five).status == 400
    assert judge(AddCheckpoint(5, (), ""), at(5), five).status == 200
    wrong = Checkpoint("log.example/0", 5, hashlib.sha256(b"else").digest())
    assert judge(AddCheckpoint(5, (), ""), wrong, five).status == 422
    bad_proof = (hashlib.sha256(b"x").digest(),)
    assert judge(AddCheckpoint(5, bad_proof, ""), at(9), five).status == 422
    assert not judge(AddCheckpoint(5, bad_proof, ""), at(9), five).evidence  # (the submitter's proof, not the log's)
    assert judge(AddCheckpoint(5, (), ""), wrong, five).evidence  # two roots signed for one size: a fork
    assert judge(AddCheckpoint(0, bad_proof, ""), at(9), NEVER).status == 422
    empty_but_not = Checkpoint("log.example/0", 0, hashlib.sha256(b"x").digest())
    assert judge(AddCheckpoint(0, (), ""), empty_but_not, NEVER).status == 422
