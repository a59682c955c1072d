"""Signed notes (c2sp.org/signed-note) and checkpoints (c2sp.org/tlog-checkpoint).

A note is text ending in a newline, a blank line, and signature lines::

    — <key name> base64(key ID[4] || signature)

The key ID is SHA-256(key name || 0x0A || signature type || public key)[:4];
type 0x01 is an Ed25519 signature over the note text (the text's final newline
included), 0x04 a timestamped cosignature (``cosignature``). A verifier key
(vkey) is ``<name>+<hex key ID>+base64(type || public key)``.

A checkpoint's text is its origin, its tree size and the base64 of its RFC 6962
root hash, one per line (extension lines after them are kept as they are).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EM_DASH = "\u2014"
DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,18})$")  # ASCII digits only: a size, a timestamp
ED25519 = 0x01
COSIGNATURE = 0x04
MAX_SIGNATURES = 64


def size_of(text: str, error: str) -> int:
    """A tree size as C2SP writes it: ASCII decimal, no leading zero, below 2**63
    (a log that claims more is not one a database can follow)."""
    if not DECIMAL.match(text) or int(text) >= 2 ** 63:
        raise BadNote(error)
    return int(text)


def chain_origin(log_name: str, chain: int) -> str:
    """The origin of one chain of a log kept as several (Confide's audit chains): ``<log>/chain/<n>``."""
    return f"{log_name}/chain/{chain}"


def chain_of(origin: str) -> int | None:
    """The chain an origin names, if it names one (:func:`chain_origin`)."""
    head, _, number = origin.rpartition("/chain/")
    return int(number) if head and number.isascii() and number.isdigit() else None


class BadNote(ValueError):
    """A note, checkpoint or key that cannot be read, or whose signature does not hold."""


# a name for a transparency log or a witness: no spaces, no plus (c2sp.org/signed-note)
def check_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise BadNote(f"a key name is non-empty, without spaces or '+': {name!r}")
    return name


def key_id(name: str, kind: int, public_key: bytes) -> bytes:
    return hashlib.sha256(check_name(name).encode() + b"\n" + bytes([kind]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A public key as a note's signatures name it."""

    name: str
    kind: int  # ED25519 or COSIGNATURE
    public_key: bytes  # 32 bytes, Ed25519

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.kind, self.public_key)

    @property
    def vkey(self) -> str:
        material = base64.b64encode(bytes([self.kind]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        try:
            name, hex_id, material = vkey.strip().split("+", 2)
            raw = base64.b64decode(material, validate=True)
        except (ValueError, binascii.Error):
            raise BadNote(f"a vkey is <name>+<key ID>+<base64 key>: {vkey[:80]!r}") from None
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE):
            raise BadNote(f"vkey {name}: not an Ed25519 note or cosignature key")
        verifier = cls(check_name(name), raw[0], raw[1:])
        if verifier.key_id.hex() != hex_id.lower():
            raise BadNote(f"vkey {name}: its key ID does not match its key")
        return verifier

    def check(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    blob: bytes  # what follows the key ID

    @property
    def line(self) -> str:
        return f"{EM_DASH} {self.name} {base64.b64encode(self.key_id + self.blob).decode()}\n"


def signature_line(name: str, kind: int, public_key: bytes, blob: bytes) -> str:
    return Signature(name, key_id(name, kind, public_key), blob).line


def parse_signatures(text: str) -> list[Signature]:
    """Signature lines (each ending in a newline), as a note carries them."""
    found = []
    lines = text.split("\n")
    if lines[-1] != "":
        raise BadNote("a signature line ends in a newline")
    for line in lines[:-1]:
        if not line.startswith(EM_DASH + " "):
            raise BadNote("a signature line starts with an em dash and a space")
        name, _, encoded = line[2:].rpartition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise BadNote("a signature is base64") from None
        if len(raw) < 5 or not name:
            raise BadNote("a signature line names its key and carries a key ID and a signature")
        found.append(Signature(check_name(name), raw[:4], raw[4:]))
    if len(found) > MAX_SIGNATURES:
        raise BadNote(f"more than {MAX_SIGNATURES} signatures")
    return found


def split_note(note: str) -> tuple[str, list[Signature]]:
    """(note text, its signatures): the text ends at the note's last blank line."""
    if "\x00" in note or any(ord(c) < 0x20 and c != "\n" for c in note):
        raise BadNote("a note holds no control characters but newlines")
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not text:
        raise BadNote("no blank line between the note text and its signatures")
    parsed = parse_signatures(signatures)
    if not parsed:
        raise BadNote("a note carries at least one signature")
    return text + "\n", parsed


def verified_by(note: str, verifiers: Iterable[Verifier]) -> tuple[str, list[Verifier]]:
    """The note text and which of ``verifiers`` (Ed25519 note keys) signed it.
    Signatures of unknown keys are ignored; a known key's signature that does not
    verify, or no known key at all, is :class:`BadNote`."""
    text, signatures = split_note(note)
    known = {(v.name, v.key_id): v for v in verifiers if v.kind == ED25519}
    good = []
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        if not verifier.check(signature.blob, text.encode()):
            raise BadNote(f"the signature of {signature.name} does not verify")
        good.append(verifier)
    if not good:
        raise BadNote("no signature by a known key")
    return text, good


# --- checkpoints --------------------------------------------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        if "\n" in self.origin or not self.origin:
            raise BadNote("an origin is one non-empty line")
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode(), *self.extensions]
        return "\n".join(lines) + "\n"

    @property
    def body(self) -> bytes:
        return self.text.encode()

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise BadNote("a checkpoint is at least three non-empty lines, each ending in a newline")
        origin, size, root = lines[0], lines[1], lines[2]
        tree_size = size_of(size, "a tree size is a decimal number without leading zeroes, below 2**63")
        try:
            root_hash = base64.b64decode(root, validate=True)
        except binascii.Error:
            raise BadNote("a root hash is base64") from None
        if len(root_hash) != 32:
            raise BadNote("a root hash is 32 bytes")
        return cls(origin, tree_size, root_hash, tuple(lines[3:-1]))

    def note(self, name: str, public_key: bytes, signature: bytes) -> str:
        """The checkpoint as a note carrying ``signature`` (Ed25519, by ``public_key``, over :attr:`body`)."""
        return f"{self.text}\n{signature_line(name, ED25519, public_key, signature)}"


def open_checkpoint(note: str, verifiers: Iterable[Verifier]) -> Checkpoint:
    """The checkpoint in ``note`` if one of ``verifiers`` signed it; else :class:`BadNote`."""
    text, _ = verified_by(note, verifiers)
    return Checkpoint.parse(text)
