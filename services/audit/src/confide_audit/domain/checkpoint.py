"""Checkpoints in the C2SP ``tlog-checkpoint`` signed-note format.

    <origin>\\n<tree size>\\n<base64 root hash>\\n
    \\n
    \\u2014 <key name> <base64(key hash[:4] || ed25519 signature)>\\n

The signature covers the note body (the first three lines, each ending in a
newline). The key hash is SHA-256(key name || 0x0A || 0x01 || public key)[:4],
0x01 naming Ed25519, as in C2SP ``signed-note``. Anyone with the public key can
check a checkpoint with a few lines of code; transparency-log tools read it as is.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EM_DASH = "\u2014"
ED25519 = b"\x01"


class BadCheckpoint(ValueError):
    pass


def key_hash(key_name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(key_name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def note_body(origin: str, size: int, root_hash: bytes) -> bytes:
    if "\n" in origin or not origin:
        raise ValueError("origin must be one non-empty line")
    return f"{origin}\n{size}\n{base64.b64encode(root_hash).decode()}\n".encode()


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes

    @property
    def body(self) -> bytes:
        return note_body(self.origin, self.size, self.root_hash)

    def signed_note(self, key_name: str, public_key: bytes, signature: bytes) -> str:
        sig = base64.b64encode(key_hash(key_name, public_key) + signature).decode()
        return f"{self.body.decode()}\n{EM_DASH} {key_name} {sig}\n"


def parse_note(note: str) -> tuple[Checkpoint, list[tuple[str, bytes, bytes]]]:
    """Split a signed note into its checkpoint and (key name, key hash, signature)s."""
    body, sep, signatures = note.partition("\n\n")
    if not sep:
        raise BadCheckpoint("no blank line between the note and its signatures")
    lines = body.split("\n")
    if len(lines) < 3:
        raise BadCheckpoint("a checkpoint has an origin, a size and a root hash")
    try:
        size = int(lines[1])
        root_hash = base64.b64decode(lines[2], validate=True)
    except ValueError as exc:
        raise BadCheckpoint(f"unreadable size or root hash: {exc}") from None
    parsed = []
    for line in signatures.strip("\n").split("\n"):
        if not line.startswith(EM_DASH + " "):
            raise BadCheckpoint("a signature line starts with an em dash")
        name, _, blob = line[2:].rpartition(" ")
        raw = base64.b64decode(blob)
        parsed.append((name, raw[:4], raw[4:]))
    return Checkpoint(lines[0], size, root_hash), parsed


def verify_note(note: str, key_name: str, public_key: bytes) -> Checkpoint:
    """The checkpoint in ``note`` if ``key_name`` signed it; else :class:`BadCheckpoint`."""
    checkpoint, signatures = parse_note(note)
    expected = key_hash(key_name, public_key)
    body = note.partition("\n\n")[0].encode() + b"\n"
    for name, khash, signature in signatures:
        if name == key_name and khash == expected:
            try:
                Ed25519PublicKey.from_public_bytes(public_key).verify(signature, body)
            except InvalidSignature:
                raise BadCheckpoint("signature does not match the checkpoint") from None
            return checkpoint
    raise BadCheckpoint(f"no signature by {key_name}")
