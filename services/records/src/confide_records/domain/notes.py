"""A note's lifecycle, and what its signature covers. Each section's hash binds its text to the note
and to the client it concerns, so a ciphertext moved to another row or another
note no longer matches; the note's hash covers its header and every section's
hash, so nothing can be added, dropped or swapped after signing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from enum import StrEnum

from confide_contracts.errors import conflict


def section_hash(note_id: str, client_id: str | None, body: str) -> str:
    data = "\n".join(("confide-note-section/1", str(note_id), str(client_id or "*"), body))
    return hashlib.sha256(data.encode()).hexdigest()


def content_hash(
    note_id: str,
    kind: str,
    author_id: str,
    service_date: str,
    appointment_id: str | None,
    participants: Iterable[str],
    section_hashes: Iterable[str],
) -> str:
    lines = [
        "confide-note/1", str(note_id), kind, author_id, service_date, appointment_id or "-",
        ",".join(sorted(str(p) for p in participants)), *sorted(section_hashes),
    ]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def psychotherapy_hash(note_id: str, client_id: str, author_id: str, body: str) -> str:
    data = "\n".join(("confide-psychotherapy-note/1", str(note_id), str(client_id), author_id, body))
    return hashlib.sha256(data.encode()).hexdigest()


class NoteStatus(StrEnum):
    """draft --sign (author)--> signed; a signed note is locked: changes are addenda.
    A pre-licensed author's signed note also waits for a co-signature."""

    DRAFT = "draft"
    SIGNED = "signed"


def may_change(status: str) -> None:
    if status != NoteStatus.DRAFT:
        raise conflict("note_id", "is signed and locked; add an addendum instead")


def may_sign(status: str) -> None:
    if status != NoteStatus.DRAFT:
        raise conflict("note_id", "is already signed")


def may_add_addendum(status: str) -> None:
    if status != NoteStatus.SIGNED:
        raise conflict("note_id", "is a draft; change it instead")


def may_cosign(status: str, cosign_required: bool, cosigned_by: str | None) -> None:
    if status != NoteStatus.SIGNED or not cosign_required:
        raise conflict("note_id", "needs no co-signature" if status == NoteStatus.SIGNED else "is not signed yet")
    if cosigned_by is not None:
        raise conflict("note_id", f"was co-signed by {cosigned_by}")
