"""The witness against the C2SP protocol (c2sp.org/tlog-witness), as a log
would use it: a first checkpoint, a consistent one, a stale old size (409 with
the size it holds), an inconsistent proof (422, the request kept), a smaller
tree, the same size with another root, a restart in between. The Merkle tree,
the proofs, the notes and the check of every cosignature are written here from
the specifications (RFC 6962, signed-note, tlog-cosignature), not taken from
the service's own code."""

from __future__ import annotations

import base64
import hashlib
import socket
import struct

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import text

ORIGIN = "audit.clinic.example/chain/0"
WITNESS = "witness.clinic.example/w1"


# --- RFC 6962, from the RFC ------------------------------------------------------------------
def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return subproof(m, leaves[:k], complete) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def proof(m: int, leaves: list[bytes]) -> list[bytes]:
    return subproof(m, leaves, True) if 0 < m < len(leaves) else []


# --- signed notes and cosignatures, from the C2SP texts ----------------------------------------
class Log:
    """A log of our own making: its key signs checkpoints as notes (type 0x01)."""

    def __init__(self, name: str = ORIGIN) -> None:
        self.name, self.key = name, Ed25519PrivateKey.generate()
        self.public = self.key.public_key().public_bytes_raw()
        self.key_id = hashlib.sha256(name.encode() + b"\n\x01" + self.public).digest()[:4]

    @property
    def vkey(self) -> str:
        material = base64.b64encode(bytes([0x01]) + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def checkpoint(self, leaves: list[bytes], origin: str = ORIGIN) -> tuple[str, str]:
        body = f"{origin}\n{len(leaves)}\n{base64.b64encode(mth(leaves)).decode()}\n"
        signature = base64.b64encode(self.key_id + self.key.sign(body.encode())).decode()
        return body, f"{body}\n\u2014 {self.name} {signature}\n"


def request(old: int, hashes: list[bytes], note: str) -> bytes:
    lines = [f"old {old}", *(base64.b64encode(h).decode() for h in hashes)]
    return ("\n".join(lines) + "\n\n" + note).encode()


def cosigned_at(answer: str, body: str, witness_vkey: str) -> int:
    """The cosignature's time, if the witness's key signed ``cosignature/v1`` over ``body``."""
    name, hex_id, material = witness_vkey.split("+", 2)
    raw = base64.b64decode(material)
    assert name == WITNESS and raw[0] == 0x04 and len(raw) == 33
    key_id = hashlib.sha256(name.encode() + b"\n\x04" + raw[1:]).digest()[:4]
    assert key_id.hex() == hex_id
    [line] = answer.splitlines()
    dash, who, blob = line.split(" ")
    assert dash == "\u2014" and who == WITNESS
    signature = base64.b64decode(blob)
    assert len(signature) == 4 + 8 + 64 and signature[:4] == key_id
    (timestamp,) = struct.unpack(">Q", signature[4:12])
    message = f"cosignature/v1\ntime {timestamp}\n{body}".encode()
    Ed25519PublicKey.from_public_bytes(raw[1:]).verify(signature[12:], message)  # raises if it does not hold
    return timestamp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def witness(running_service, log):
    port = free_port()
    service = running_service("witness", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", WITNESS_NAME=WITNESS,
                              WITNESS_LOGS=[{"origin": ORIGIN, "vkeys": [log.vkey]}])
    service.base = f"http://127.0.0.1:{port}"
    return service


def submit(witness, body: bytes) -> requests.Response:
    return requests.post(f"{witness.base}/add-checkpoint", data=body, timeout=10)


def test_the_witness_cosigns_only_what_extends_what_it_cosigned(witness, log, running_service):
    vkey = requests.get(f"{witness.base}/vkey", timeout=10).text.strip()
    leaves = [f"entry {i}".encode() for i in range(40)]

    body, note = log.checkpoint(leaves[:5])
    first = submit(witness, request(0, [], note))
    assert first.status_code == 200, first.text
    assert cosigned_at(first.text, body, vkey) > 0

    body, note = log.checkpoint(leaves[:9])
    second = submit(witness, request(5, proof(5, leaves[:9]), note))
    assert second.status_code == 200, second.text
    cosigned_at(second.text, body, vkey)

    # a client that believes the witness is still at 5: told where it is
    _, note = log.checkpoint(leaves[:12])
    stale = submit(witness, request(5, proof(5, leaves[:12]), note))
    assert (stale.status_code, stale.text, stale.headers["Content-Type"]) == (409, "9\n", "text/x.tlog.size")

    # history rewritten and re-signed by the log's own key: no proof can extend what was cosigned
    rewritten = [*leaves[:3], b"a different entry 3", *leaves[4:12]]
    _, forged = log.checkpoint(rewritten)
    refused = submit(witness, request(9, proof(9, rewritten), forged))
    assert refused.status_code == 422, refused.text
    # a smaller tree after a larger one
    _, smaller = log.checkpoint(leaves[:7])
    assert submit(witness, request(9, [], smaller)).status_code == 400
    # the log's signature on another root for the size it cosigned: a fork, proven, and kept as evidence
    # (a bad proof above is the submitter's word, not the log's: kept, it would let anyone fill the table)
    _, other_root = log.checkpoint(rewritten[:9])
    assert submit(witness, request(9, [], other_root)).status_code == 422
    with witness.engine.connect() as conn:
        kept = conn.execute(text("SELECT status, request FROM evidence WHERE origin = :o"), {"o": ORIGIN}).all()
    assert [(status, other_root in request_) for status, request_ in kept] == [(422, True)]
    # the same checkpoint again with junk under the witness's own name: cosigned afresh, what it serves unchanged
    origin_hash = hashlib.sha256(ORIGIN.encode()).hexdigest()
    served = requests.get(f"{witness.base}/{origin_hash}/checkpoint", timeout=10).text
    _, same = log.checkpoint(leaves[:9])
    junk = same + f"\u2014 {WITNESS} " + base64.b64encode(b"\x00" * 76).decode() + "\n"
    assert submit(witness, request(9, [], junk)).status_code == 200
    assert requests.get(f"{witness.base}/{origin_hash}/checkpoint", timeout=10).text == served

    # a restart changes nothing: the witness still holds size 9, and goes on from there
    witness.container.stop()
    again = running_service("witness", replica_of=witness)
    assert submit(witness, request(0, [], log.checkpoint(leaves[:12])[1])).text == "9\n"
    body, note = log.checkpoint(leaves[:40])
    onward = submit(witness, request(9, proof(9, leaves[:40]), note))
    assert onward.status_code == 200, onward.text
    cosigned_at(onward.text, body, vkey)
    latest = requests.get(f"{witness.base}/{origin_hash}/checkpoint", timeout=10).text
    assert latest.startswith(body) and onward.text in latest and again is not None


def test_the_witness_refuses_what_its_logs_did_not_sign(witness, log):
    stranger = Log()  # another key under the same name: its signature is ignored, so none is known
    _, note = stranger.checkpoint([b"x"])
    assert submit(witness, request(0, [], note)).status_code == 403
    _, unknown = log.checkpoint([b"x"], origin="elsewhere.example/log")
    assert submit(witness, request(0, [], unknown)).status_code == 404
    # a tampered size under the log's signature
    _, note = log.checkpoint([b"x", b"y"])
    assert submit(witness, request(0, [], note.replace("\n2\n", "\n3\n", 1))).status_code in (400, 403)
    assert submit(witness, b"old one\n\n" + note.encode()).status_code == 400
    assert submit(witness, request(0, [b"\x00" * 32], note)).status_code == 422  # a proof from nothing
