"""The witness protocol (c2sp.org/tlog-witness): ``POST <prefix>/add-checkpoint``.

Request body::

    old <size the client believes the witness last cosigned>\\n
    <base64 consistency proof hash>\\n   (zero to 63 lines)
    \\n
    <the checkpoint, a note signed by the log>

Answers: 200 with cosignature lines; 409 ``text/x.tlog.size`` with the size
the witness last cosigned (the client asks again from there); 400 malformed or
an old size above the checkpoint's; 403 no valid signature of the log; 404 an
origin it does not witness; 422 a proof that does not hold, a non-empty proof
from zero, or the same size with another root.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from confide_tlog.note import BadNote, size_of

PATH = "/add-checkpoint"
SIZE_TYPE = "text/x.tlog.size"
MAX_PROOF = 63
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    note: str

    @property
    def body(self) -> bytes:
        lines = [f"old {self.old_size}", *(base64.b64encode(h).decode() for h in self.proof)]
        return ("\n".join(lines) + "\n\n" + self.note).encode()

    @classmethod
    def parse(cls, body: bytes) -> AddCheckpoint:
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise BadNote("the request is UTF-8 text") from None
        head, sep, note = text.partition("\n\n")
        if not sep:
            raise BadNote("an empty line separates the old size and proof from the checkpoint")
        lines = head.split("\n")
        first = lines[0]
        if not first.startswith("old "):
            raise BadNote("the first line is 'old <size>'")
        old_size = size_of(first.removeprefix("old "), "the first line is 'old <size>', a decimal below 2**63")
        if len(lines) - 1 > MAX_PROOF:
            raise BadNote(f"at most {MAX_PROOF} proof lines")
        try:
            proof = tuple(base64.b64decode(line, validate=True) for line in lines[1:])
        except binascii.Error:
            raise BadNote("each proof line is one base64 hash") from None
        if any(len(h) != 32 for h in proof):
            raise BadNote("each proof line is one 32-byte hash")
        return cls(old_size, proof, note)


def request(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    return AddCheckpoint(old_size, tuple(proof), note).body


def conflict_size(body: bytes) -> int:
    """The size a 409 answer says the witness last cosigned."""
    text = body.decode(errors="replace")
    if not text.endswith("\n"):
        raise BadNote("a 409 answer is a decimal size and a newline")
    return size_of(text[:-1], "a 409 answer is a decimal size and a newline")
