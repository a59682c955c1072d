"""The console's proof check (``static/proof.js``), run in Chromium against
proofs made here with ``confide_tlog`` (the audit service's and the witness's
own formats): what it accepts and, above all, what it refuses. Keys are drawn
until the witness's vkey has a "+" in its base64 (a run of the console's test
once failed on such a key)."""

from __future__ import annotations

import base64
import json
import time
from importlib import resources

import pytest
from confide_testing.browser import chromium
from confide_tlog import cosignature
from confide_tlog.merkle import InMemoryLeaves, inclusion_proof, leaf_hash, root
from confide_tlog.note import COSIGNATURE, Checkpoint, Verifier
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

LOG, WITNESS = "clinic.example/audit", "witness.example/w1"


def raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def page():
    script = resources.files("confide_gateway").joinpath("static/proof.js").read_text()
    with chromium() as browser:
        page = browser.new_page()
        # (WebCrypto is for secure contexts: the page is served as from localhost, the script with it)
        page.route("http://localhost/**", lambda route: route.fulfill(
            content_type="text/javascript" if route.request.url.endswith(".js") else "text/html",
            body=script if route.request.url.endswith(".js") else '<p>proofs</p><script src="/proof.js"></script>'))
        page.goto("http://localhost/")
        yield page


@pytest.fixture(scope="module")
def made():
    log = Ed25519PrivateKey.generate()
    while True:  # a witness whose vkey's base64 holds a "+"
        witness = Ed25519PrivateKey.generate()
        vkey = Verifier(WITNESS, COSIGNATURE, raw(witness)).vkey
        if "+" in vkey.split("+", 2)[2]:
            break
    entries = [json.dumps({"chain": 0, "seq": i, "action": "read", "client_id": f"c-{i}"}, sort_keys=True).encode()
               for i in range(13)]
    leaves = InMemoryLeaves([leaf_hash(e) for e in entries])
    checkpoint = Checkpoint(f"{LOG}/chain/0", 13, root(leaves, 13))
    note = checkpoint.note(LOG, raw(log), log.sign(checkpoint.body))
    stamp = int(time.time())
    cosigned = note + cosignature.line(WITNESS, raw(witness), stamp,
                                       witness.sign(cosignature.message(checkpoint.text, stamp)))
    keys = {"key_name": LOG, "public_keys": [b64(raw(log))], "witnesses": [vkey], "quorum": 1}
    return {"entries": entries, "leaves": leaves, "note": note, "cosigned": cosigned, "keys": keys}


def check(page, data: dict, keys: dict) -> str:
    return page.evaluate("""async ([data, keys]) => {
        try { const {note, witnesses} = await check(data, keys); return `ok ${note.size} ${witnesses.length}`; }
        catch (error) { return error.message; }
    }""", [data, keys])


def proof_of(made, at: int, checkpoint: str | None = None, **changes) -> dict:
    return {"canonical": b64(made["entries"][at]), "chain": 0, "seq": at, "tree_size": 13,
            "proof": [b64(h) for h in inclusion_proof(made["leaves"], at, 13)],
            "checkpoint": checkpoint or made["cosigned"], **changes}


def test_every_entry_of_a_tree_checks_out(page, made):
    for seq in range(13):
        assert check(page, proof_of(made, seq), made["keys"]) == "ok 13 1", seq
    # as a client's report has it: the leaf hash, not the entry's bytes
    client = {"leaf_hash": b64(leaf_hash(made["entries"][5])), "seq": 5, "tree_size": 13,
              "checkpoint": made["cosigned"], "hashes": [b64(h) for h in inclusion_proof(made["leaves"], 5, 13)]}
    assert check(page, client, made["keys"]) == "ok 13 1"


def test_what_does_not_hold_is_refused_and_says_why(page, made):
    keys = made["keys"]
    tampered = proof_of(made, 3, canonical=b64(made["entries"][3].replace(b"read", b"sign")))
    assert check(page, tampered, keys).startswith("the entry does not hash into the tree the log signed")
    assert check(page, proof_of(made, 3, seq=4), keys) == "the entry's bytes name another position in the trail"
    assert check(page, proof_of(made, 3, made["note"]), keys) == "0 of the 1 witness cosignatures required"
    other_log = {**keys, "public_keys": [b64(raw(Ed25519PrivateKey.generate()))]}
    assert check(page, proof_of(made, 3), other_log) == f"the checkpoint is not signed by {LOG}"
    stranger = Verifier(WITNESS, COSIGNATURE, raw(Ed25519PrivateKey.generate())).vkey
    assert check(page, proof_of(made, 3), {**keys, "witnesses": [stranger]}) == \
        "0 of the 1 witness cosignatures required"
    short = proof_of(made, 3)
    short["proof"] = short["proof"][:-1]
    assert check(page, short, keys) == "the inclusion proof is shorter than the tree"
    assert check(page, proof_of(made, 3, tree_size=12), keys) == "the proof is for another size than the checkpoint's"
    assert check(page, proof_of(made, 3, chain=1), keys) == "the entry's bytes name another position in the trail"
    elsewhere = {"leaf_hash": b64(leaf_hash(made["entries"][3])), "chain": 1, "seq": 3, "tree_size": 13,
                 "checkpoint": made["cosigned"], "hashes": [b64(h) for h in inclusion_proof(made["leaves"], 3, 13)]}
    assert check(page, elsewhere, keys) == "the checkpoint is another chain's"
    assert check(page, proof_of(made, 3), {**keys, "quorum": 0}).startswith("no witness vouches for the trail")
    assert check(page, proof_of(made, 3), {**keys, "witnesses": [keys["witnesses"][0]] * 2, "quorum": 2}) == \
        "1 of the 2 witness cosignatures required"  # (one key listed twice is one witness)
    assert check(page, proof_of(made, 3, made["cosigned"].replace("\n13\n", "\n1e1\n")), keys) == \
        "the checkpoint's size is not a number"
