"""Intake and progress notes: drafts their author changes, signed and locked
(each section's hash binds its text to the note and to the client it concerns),
addenda after signing, co-signature by a supervisor, and each client's view of a
group session: the whole session's sections and their own, never another's."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from confide_contracts import records as events
from confide_contracts.errors import NotFound, RecordIntegrityError, invalid
from confide_contracts.rpc.records import validate_sections
from confide_messaging import UnitOfWork
from confide_persistence import plain
from marshmallow import ValidationError

from confide_records import store
from confide_records.access import Access, Refused, Work
from confide_records.domain import notes as rules
from confide_records.domain.notes import NoteStatus
from confide_records.sealing import Sealers

log = logging.getLogger(__name__)


def header(uow: UnitOfWork, note_id) -> tuple[Any, list[str]]:
    """A note's header and participants, to know whose record it is in."""
    row, participants = store.note_header(uow.session.connection(), note_id)
    if row is None:
        raise NotFound(f"no note {note_id}")
    return row, participants


def _sections(sealers: Sealers, sections: list[dict[str, Any]]) -> list[tuple[Any, str]]:
    sealed = sealers.notes.seal_many([s["body"] for s in sections])
    return [(s["client_id"], c) for s, c in zip(sections, sealed, strict=True)]


def create(sealers: Sealers, data: dict[str, Any]) -> Work:
    def work(a: Access):
        note_id = store.new_id()
        store.add_note(a.conn, note_id, a.caller.user_id, {
            "kind": data["kind"], "session_kind": data["session_kind"], "appointment_id": data["appointment_id"],
            "service_date": data["service_date"], "site_id": data["site_id"]}, data["client_ids"])
        store.add_sections(a.conn, note_id, _sections(sealers, data["sections"]))
        a.resource_id = str(note_id)
        return {"id": str(note_id), "status": NoteStatus.DRAFT.value,
                "client_ids": [str(c) for c in data["client_ids"]]}
    return work


def check_sections(sections: list[dict[str, Any]], participants: list[str]) -> None:
    """New sections for a draft: one per client of its session, and one for the whole session."""
    try:
        validate_sections(sections, [uuid.UUID(c) for c in participants])
    except ValidationError as exc:
        raise invalid("sections", " ".join(exc.messages)) from None


def update(sealers: Sealers, note_id, sections: list[dict[str, Any]]) -> Work:
    def work(a: Access):
        rules.may_change(store.note_row(a.conn, note_id, lock=True).status)
        store.replace_sections(a.conn, note_id, _sections(sealers, sections))
        return {"id": str(note_id), "status": NoteStatus.DRAFT.value}
    return work


def sign(sealers: Sealers, note_id, participants: list[str]) -> Work:
    """Sign and lock; a pre-licensed author's note then waits for co-signature."""
    def work(a: Access):
        row = store.note_row(a.conn, note_id, lock=True)
        rules.may_sign(row.status)
        sections = store.all_sections(a.conn, note_id)
        bodies = sealers.notes.open_many([s.body_ciphertext for s in sections])
        hashes = []
        for section, body in zip(sections, bodies, strict=True):
            digest = rules.section_hash(str(note_id), section.client_id and str(section.client_id), body)
            store.seal_section_hash(a.conn, section.id, digest)
            hashes.append(digest)
        content = rules.content_hash(str(note_id), row.kind, row.author_id, row.service_date.isoformat(),
                                     row.appointment_id, participants, hashes)
        cosign = store.is_supervisee(a.conn, row.author_id, row.service_date)
        signed_at = store.now()
        store.change_note(a.conn, note_id, status=NoteStatus.SIGNED.value, signed_at=signed_at,
                          content_sha256=content, cosign_required=cosign, updated_at=signed_at)
        a.uow.emit(events.NOTE_SIGNED, {
            "note_id": str(note_id), "kind": row.kind, "client_ids": participants,
            "appointment_id": row.appointment_id, "author_id": row.author_id,
            "signed_at": signed_at.isoformat(), "content_sha256": content, "cosign_required": cosign,
        }, actor=a.caller.actor, site_id=row.site_id)
        return {"id": str(note_id), "status": NoteStatus.SIGNED.value, "signed_at": signed_at.isoformat(),
                "content_sha256": content, "cosign_required": cosign}
    return work


def cosign(note_id) -> Work:
    """By the author's supervisor on the service date."""
    def work(a: Access):
        row = store.note_row(a.conn, note_id, lock=True)
        if not store.supervises(a.conn, a.caller.user_id, row.author_id, row.service_date):
            raise Refused("not the author's supervisor on the service date")
        rules.may_cosign(row.status, row.cosign_required, row.cosigned_by if row.cosigned_at else None)
        at = store.now()
        store.change_note(a.conn, note_id, cosigned_by=a.caller.user_id, cosigned_at=at)
        a.uow.emit(events.NOTE_COSIGNED, {"note_id": str(note_id), "author_id": row.author_id,
                                          "cosigned_by": a.caller.user_id, "cosigned_at": at.isoformat()},
                   actor=a.caller.actor, site_id=row.site_id)
        return {"id": str(note_id), "cosigned_by": a.caller.user_id, "cosigned_at": at.isoformat()}
    return work


def add_addendum(sealers: Sealers, note_id, data: dict[str, Any]) -> Work:
    def work(a: Access):
        rules.may_add_addendum(store.note_row(a.conn, note_id).status)
        aid = store.new_id()
        concerns = data["client_id"] and str(data["client_id"])
        digest = rules.section_hash(str(note_id), concerns, data["body"])
        at = store.now()
        store.add_addendum(a.conn, aid, note_id, {
            "client_id": data["client_id"], "author_id": a.caller.user_id,
            "body_ciphertext": sealers.notes.seal(data["body"]), "body_sha256": digest, "signed_at": at})
        a.resource_id = str(note_id)
        return {"id": str(aid), "note_id": str(note_id), "signed_at": at.isoformat(), "body_sha256": digest}
    return work


def read(sealers: Sealers, note_header, participants: list[str], client_id) -> Work:
    return lambda a: view(sealers, a.conn, note_header, participants, client_id)


def view(sealers: Sealers, conn, note_header, participants: list[str], client_id) -> dict[str, Any]:
    """The note as ``client_id``'s record shows it, checked against its signature."""
    sections = store.visible_sections(conn, note_header.id, client_id)
    addenda = store.visible_addenda(conn, note_header.id, client_id)
    texts = sealers.notes.open_many([s.body_ciphertext for s in sections] + [x.body_ciphertext for x in addenda])
    if note_header.status == NoteStatus.SIGNED:
        _check_integrity(conn, note_header, participants, sections, addenda, texts)
    out = plain(note_header)
    out["client_ids"] = participants
    out["sections"] = [{"concerns": "session" if s.client_id is None else "client", "body": t}
                       for s, t in zip(sections, texts, strict=False)]
    out["addenda"] = [{"id": str(x.id), "author_id": x.author_id, "signed_at": x.signed_at.isoformat(),
                       "concerns": "session" if x.client_id is None else "client", "body": t}
                      for x, t in zip(addenda, texts[len(sections):], strict=True)]
    return out


def _check_integrity(conn, note_header, participants, sections, addenda, texts) -> None:
    stored = [s.body_sha256 for s in store.all_sections(conn, note_header.id)]
    expected = rules.content_hash(str(note_header.id), note_header.kind, note_header.author_id,
                                  note_header.service_date.isoformat(), note_header.appointment_id, participants,
                                  stored)
    parts = list(sections) + list(addenda)
    recomputed = [rules.section_hash(str(note_header.id), s.client_id and str(s.client_id), t)
                  for s, t in zip(parts, texts, strict=True)]
    if expected != note_header.content_sha256 or recomputed != [s.body_sha256 for s in parts]:
        log.error("signed note %s does not match its signature", note_header.id)
        raise RecordIntegrityError(f"note {note_header.id} does not match what was signed; report this to security")


def index(client_id) -> Work:
    """Headers, no text, newest first: signed notes and the caller's own drafts."""
    return lambda a: store.note_index(a.conn, client_id, drafts_of=a.caller.user_id)


def concerning(participants: list[str], client_id) -> list[str]:
    """The clients an addendum concerns: one of the session's, or all of them."""
    if client_id is None:
        return participants
    if str(client_id) not in participants:
        raise invalid("client_id", "is not in this note's session")
    return [str(client_id)]
