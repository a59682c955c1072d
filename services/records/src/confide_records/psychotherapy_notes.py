"""Psychotherapy notes (45 CFR 164.501): process notes kept apart from the
record, sealed under a key of their own, for their author alone -- no role,
break-the-glass or export opens them; only an authorization for them alone
releases them, by their author."""

from __future__ import annotations

from typing import Any

from confide_contracts.errors import NotFound, RecordIntegrityError
from confide_messaging import UnitOfWork
from confide_persistence import plain

from confide_records import store
from confide_records.access import Access, Work
from confide_records.domain import notes as rules
from confide_records.domain.notes import NoteStatus
from confide_records.sealing import Sealers


def write(sealers: Sealers, data: dict[str, Any]) -> Work:
    def work(a: Access):
        nid = store.new_id()
        signed = data["sign"]
        store.add_psychotherapy_note(a.conn, nid, {
            "client_id": data["client_id"], "author_id": a.caller.user_id, "appointment_id": data["appointment_id"],
            "service_date": data["service_date"],
            "status": (NoteStatus.SIGNED if signed else NoteStatus.DRAFT).value,
            "body_ciphertext": sealers.psychotherapy.seal(data["body"]),
            "content_sha256": rules.psychotherapy_hash(str(nid), str(data["client_id"]), a.caller.user_id,
                                                       data["body"]) if signed else None,
            "signed_at": store.now() if signed else None})
        a.resource_id = str(nid)
        return {"id": str(nid), "status": (NoteStatus.SIGNED if signed else NoteStatus.DRAFT).value}
    return work


def of_author(sealers: Sealers, conn, client_id, author_id: str) -> list[dict[str, Any]]:
    """The author's psychotherapy notes about the client, checked against their signatures."""
    rows = store.psychotherapy_notes_of(conn, client_id, author_id)
    texts = sealers.psychotherapy.open_many([r.body_ciphertext for r in rows])
    out = []
    for row, text in zip(rows, texts, strict=True):
        if row.status == NoteStatus.SIGNED and rules.psychotherapy_hash(
                str(row.id), str(client_id), row.author_id, text) != row.content_sha256:
            raise RecordIntegrityError(f"psychotherapy note {row.id} does not match what was signed")
        note = plain(row)
        del note["body_ciphertext"]
        note["body"] = text
        out.append(note)
    return out


def read_own(sealers: Sealers, client_id, author_id: str) -> Work:
    return lambda a: of_author(sealers, a.conn, client_id, author_id)


def find(uow: UnitOfWork, note_id):
    row = store.psychotherapy_note(uow.session.connection(), note_id)
    if row is None:
        raise NotFound(f"no psychotherapy note {note_id}")
    return row


def sign(sealers: Sealers, note_id) -> Work:
    def work(a: Access):
        current = store.psychotherapy_note(a.conn, note_id, lock=True)
        rules.may_sign(current.status)
        text = sealers.psychotherapy.open(current.body_ciphertext)
        at = store.now()
        store.change_psychotherapy_note(a.conn, note_id, status=NoteStatus.SIGNED.value, signed_at=at, updated_at=at,
                                        content_sha256=rules.psychotherapy_hash(
                                            str(note_id), str(current.client_id), current.author_id, text))
        return {"id": str(note_id), "status": NoteStatus.SIGNED.value, "signed_at": at.isoformat()}
    return work
