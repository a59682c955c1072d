"""Work queues of notes: drafts left unsigned past the clinic's time, and signed
notes of pre-licensed clinicians waiting for their supervisor's co-signature.
Each is a list paged by key (:mod:`confide_contracts.paging`) of note headers --
never a note's text. Clinicians see the clients a note is about (each client
listed is an access recorded); admins and compliance officers, who follow up
on documentation without reading it, see the author, site and date only."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from confide_access import Action, Caller, record_access
from confide_contracts.paging import page
from confide_messaging import UnitOfWork
from confide_persistence import plain
from sqlalchemy import func, or_, select

from confide_records import models as m
from confide_records import store
from confide_records.domain.policy import HEADERS_ONLY

HEADER = ("id", "kind", "session_kind", "appointment_id", "service_date", "author_id", "site_id", "status",
          "created_at", "signed_at")


def unsigned(uow: UnitOfWork, who: Caller, q: dict[str, Any], hours: int) -> dict[str, Any]:
    n = m.notes
    query = _headers().where(n.c.status == "draft", n.c.created_at < store.now() - timedelta(hours=hours))
    if who.role == "clinician":
        query = query.where(n.c.author_id == who.user_id)
    elif who.role == "supervisor":  # their own, and their supervisees' today
        query = query.where(or_(n.c.author_id == who.user_id,
                                store.active_supervision(who.user_id, n.c.author_id, date.today())))
    elif who.role == "admin":
        query = query.where(n.c.site_id.in_(sorted(who.sites)))
    return _listed(uow, who, _filtered(query, q), q, {"age": (n.c.created_at, n.c.id)})


def awaiting_cosignature(uow: UnitOfWork, who: Caller, q: dict[str, Any]) -> dict[str, Any]:
    """Signed notes the caller supervised the author for on the service date, not yet co-signed."""
    n = m.notes
    query = _headers().where(n.c.status == "signed", n.c.cosign_required.is_(True), n.c.cosigned_at.is_(None),
                             store.active_supervision(who.user_id, n.c.author_id, n.c.service_date))
    return _listed(uow, who, _filtered(query, q), q, {"age": (n.c.signed_at, n.c.id)})


def _headers():
    n, p = m.notes, m.note_participants
    clients = select(func.array_agg(p.c.client_id)).where(p.c.note_id == n.c.id).scalar_subquery()
    return select(*(n.c[name] for name in HEADER), clients.label("client_ids"))


def _filtered(query, q: dict[str, Any]):
    n = m.notes
    for name in ("author_id", "site_id"):
        if q[name]:
            query = query.where(n.c[name] == q[name])
    return query


def _listed(uow: UnitOfWork, who: Caller, query, q: dict[str, Any], sorts) -> dict[str, Any]:
    found = page(uow.session.connection(), query, sorts, q, _view(who))
    with uow.batched():
        for note in found["items"]:
            for client in note.get("client_ids", ()):
                record_access(uow, who, action=Action.READ, resource_type="Note", resource_id=note["id"],
                              client_id=client, site_id=note["site_id"])
    return found


def _view(who: Caller):
    def view(row) -> dict[str, Any]:
        note = plain(row)
        note["client_ids"] = sorted(str(c) for c in row.client_ids or ())
        if who.role in HEADERS_ONLY:
            del note["client_ids"]
        return note
    return view
