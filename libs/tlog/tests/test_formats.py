"""The C2SP formats against the specifications' own examples, and the
consistency-proof vectors of RFC 6962 trees."""

import base64
import hashlib

import pytest
from confide_tlog import cosignature, merkle
from confide_tlog.note import COSIGNATURE, BadNote, Checkpoint, Verifier, split_note, verified_by
from confide_tlog.witness import AddCheckpoint, conflict_size
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

pytestmark = pytest.mark.unit

# c2sp.org/signed-note's example key and note
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = ("This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONnc"
             "AlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")
SPEC_CHECKPOINT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def test_the_specifications_example_note_verifies_with_its_vkey():
    verifier = Verifier.parse(SPEC_VKEY)
    assert verifier.vkey == SPEC_VKEY
    text, signed_by = verified_by(SPEC_NOTE, [verifier])
    assert text == "This is an example message.\n" and signed_by == [verifier]
    with pytest.raises(BadNote):
        verified_by(SPEC_NOTE.replace("example message", "exemplary message"), [verifier])
    with pytest.raises(BadNote):
        Verifier.parse(SPEC_VKEY.replace("530d903a", "530d903b"))


def test_a_cosignature_from_a_known_seed_matches_an_independent_vector():
    key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    public = key.public_key().public_bytes_raw()
    witness = Verifier("witness.example/w1", COSIGNATURE, public)
    assert witness.vkey == "witness.example/w1+e42b2f2c+BDtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
    line = cosignature.line(witness.name, public, 1679315147,
                            key.sign(cosignature.message(SPEC_CHECKPOINT, 1679315147)))
    assert line == ("\u2014 witness.example/w1 5CsvLAAAAABkGFDLN7VCWowLNFrAx5kFlOq5Gblf9cDN74bbmX0TAuxTFK/0CM4NgMiBvbp"
                    "FFyRcIVXoHLQV9IBeLzGW/URa5SA/DQ==\n")
    [found] = cosignature.cosigners(SPEC_CHECKPOINT, line, [witness])
    assert found.timestamp == 1679315147
    with pytest.raises(BadNote):
        cosignature.cosigners(SPEC_CHECKPOINT.replace("20852163", "20852164"), line, [witness])


def test_checkpoints_and_witness_requests_read_back_as_written():
    checkpoint = Checkpoint.parse(SPEC_CHECKPOINT)
    assert (checkpoint.origin, checkpoint.size, checkpoint.text) == ("example.com/behind-the-sofa", 20852163,
                                                                     SPEC_CHECKPOINT)
    for bad in ("origin\n012\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "origin\n1\nnot-base64\n",
                "origin\n1\n", f"origin\n{2 ** 63}\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"):
        with pytest.raises(BadNote):
            Checkpoint.parse(bad)
    note = SPEC_CHECKPOINT + "\n\u2014 example.com/behind-the-sofa AAAAAAAA\n"
    proof = (hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest())
    request = AddCheckpoint.parse(AddCheckpoint(20852014, proof, note).body)
    assert (request.old_size, request.proof, request.note) == (20852014, proof, note)
    assert split_note(note)[0] == SPEC_CHECKPOINT
    for bad in (b"old 01\n\n" + note.encode(), f"old {2 ** 63}\n\n{note}".encode(),
                b"old 1\nnot a hash\n\n" + note.encode(), b"old 1\n" + note.encode()):
        with pytest.raises(BadNote):
            AddCheckpoint.parse(bad)
    assert conflict_size(b"20852163\n") == 20852163


# leaves 0x00..0x06 (a tree of 7), proofs computed independently with RFC 6962's SUBPROOF
ROOT_3 = "O2zM1+PgI/85MAbwMDFe562esRGwIrQfun5bejlz9og="
ROOT_4 = "m81RJAr0AFFo8DMSG6hb5abtTw5qX6wmIGZym4+/3ss="
ROOT_7 = "NWAZGAMChESyMgGKwEf9tWHAnCOnpodsheCLXk1I6fM="
PROOF_3_7 = ["/PCmxwDdE+J0tvuo3uqN2bJuTu3eNJVxfKyECMnFF38=", "WDx9+3swVdmUZVRAMqVx4QoTSxtvdpQiu7cf1/oWel0=",
             "ogv5p8wtyKCPX0FacbGfasQnurVNJO7IaLXTEDRJlTo=", "ickpg07RRZsH9lteGiFDqM9djv3zD0n//6Moux2RM7s="]


def test_consistency_proofs_match_the_vectors():
    tree = merkle.InMemoryLeaves([merkle.leaf_hash(bytes([i])) for i in range(7)])
    b = base64.b64decode
    assert merkle.root(tree, 7) == b(ROOT_7) and merkle.root(tree, 3) == b(ROOT_3)
    assert merkle.consistency_proof(tree, 3, 7) == [b(h) for h in PROOF_3_7]
    assert merkle.verify_consistency(3, 7, b(ROOT_3), b(ROOT_7), [b(h) for h in PROOF_3_7])
    assert merkle.verify_consistency(4, 7, b(ROOT_4), b(ROOT_7), [b(PROOF_3_7[-1])])
    assert not merkle.verify_consistency(4, 7, b(ROOT_3), b(ROOT_7), [b(PROOF_3_7[-1])])
