"""Supervision of pre-licensed clinicians, as credentialing officers record it;
published so records, scheduling and billing keep their projections."""

from __future__ import annotations

from datetime import date
from typing import Any

from confide_access import Action, Caller, record_access
from confide_contracts import credentialing as events
from confide_contracts.errors import NotFound, invalid, missing
from confide_licensure import catalogue
from confide_licensure.answer import independent_licence_in
from confide_messaging import UnitOfWork

from confide_credentialing import store


def start(uow: UnitOfWork, who: Caller, data: dict[str, Any]):
    """The supervisor must hold an independent licence in force in the
    jurisdiction on the start date. Returns the new supervision's id."""
    conn = uow.session.connection()
    known = store.known_clinicians(conn, [data["supervisor_id"], data["supervisee_id"]])
    for field in ("supervisor_id", "supervisee_id"):
        if data[field] not in known:
            raise missing(field, f"no clinician {data[field]}")
    held = store.licenses_of(conn, [data["supervisor_id"]])[data["supervisor_id"]]
    if independent_licence_in(catalogue(), held, data["jurisdiction"], data["starts_on"]) is None:
        raise invalid("supervisor_id", f"holds no independent licence in force in {data['jurisdiction']} "
                                       f"on {data['starts_on'].isoformat()}")
    sid = store.new_id()
    store.add_supervision(conn, sid, who.user_id, data)
    record_access(uow, who, action=Action.CREATE, resource_type="Supervision", resource_id=str(sid))
    uow.emit(events.SUPERVISION_STARTED, event_payload(sid, data), actor=who.actor)
    return sid


def end(uow: UnitOfWork, who: Caller, supervision_id, ends_on: date) -> None:
    conn = uow.session.connection()
    row = store.supervision(conn, supervision_id, lock=True)
    if row is None:
        raise NotFound(f"no supervision {supervision_id}")
    if ends_on < row.starts_on:
        raise invalid("ends_on", f"is before the start {row.starts_on.isoformat()}")
    store.end_supervision(conn, row.id, ends_on)
    record_access(uow, who, action=Action.UPDATE, resource_type="Supervision", resource_id=str(row.id))
    uow.emit(events.SUPERVISION_ENDED, event_payload(row.id, {**row._mapping, "ends_on": ends_on}), actor=who.actor)


def event_payload(sid, data) -> dict[str, Any]:
    return {"supervision_id": str(sid), "supervisor_id": data["supervisor_id"],
            "supervisee_id": data["supervisee_id"], "jurisdiction": data["jurisdiction"],
            "starts_on": data["starts_on"].isoformat(),
            "ends_on": data["ends_on"].isoformat() if data.get("ends_on") else None}
