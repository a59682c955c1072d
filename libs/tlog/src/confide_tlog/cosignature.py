"""Timestamped Ed25519 cosignatures (c2sp.org/tlog-cosignature, ``cosignature/v1``).

A witness states that, as of a time, the largest consistent tree it has seen
for the checkpoint's origin has this root. It signs::

    cosignature/v1\\n
    time <POSIX seconds>\\n
    <the checkpoint's whole text, extension lines included>

and its signature line carries key ID (type 0x04) || timestamp (8 bytes, big
endian) || the 64-byte signature.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from confide_tlog.note import COSIGNATURE, BadNote, Signature, Verifier, parse_signatures, signature_line


def message(checkpoint_text: str, timestamp: int) -> bytes:
    if not 0 < timestamp < 2**63:
        raise BadNote("a cosignature's time is a positive POSIX timestamp")
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


def line(name: str, public_key: bytes, timestamp: int, signature: bytes) -> str:
    """The cosignature line of ``signature`` (Ed25519, by ``public_key``, over :func:`message`)."""
    return signature_line(name, COSIGNATURE, public_key, struct.pack(">Q", timestamp) + signature)


@dataclass(frozen=True)
class Cosigned:
    witness: str
    timestamp: int
    line: str


def check(signature: Signature, checkpoint_text: str, verifier: Verifier) -> int:
    """The timestamp of ``signature`` if ``verifier`` cosigned ``checkpoint_text`` with it."""
    if verifier.kind != COSIGNATURE or (signature.name, signature.key_id) != (verifier.name, verifier.key_id):
        raise BadNote(f"not a cosignature by {verifier.name}")
    if len(signature.blob) != 72:
        raise BadNote(f"the cosignature of {signature.name} is not a timestamp and an Ed25519 signature")
    (timestamp,) = struct.unpack(">Q", signature.blob[:8])
    if not verifier.check(signature.blob[8:], message(checkpoint_text, timestamp)):
        raise BadNote(f"the cosignature of {signature.name} does not verify")
    return timestamp


def cosigners(checkpoint_text: str, lines: str, witnesses: Iterable[Verifier]) -> list[Cosigned]:
    """Which of ``witnesses`` cosigned the checkpoint in ``lines`` (signature
    lines, as a witness answers or a note carries them). Unknown keys are ignored;
    a known key's cosignature that does not verify is :class:`BadNote`."""
    known = {(w.name, w.key_id): w for w in witnesses if w.kind == COSIGNATURE}
    found = []
    for signature in parse_signatures(lines):
        witness = known.get((signature.name, signature.key_id))
        if witness is not None:
            found.append(Cosigned(witness.name, check(signature, checkpoint_text, witness), signature.line))
    return found
