"""Sites, rooms, availability and leave: what bookings are made against."""

from __future__ import annotations

from typing import Any

from confide_contracts.errors import conflict
from confide_messaging import UnitOfWork

from confide_scheduling import store


def create_site(uow: UnitOfWork, data: dict[str, Any]) -> None:
    if not store.add_site(uow.session.connection(), data):
        raise conflict("id", "is already a site")


def add_room(uow: UnitOfWork, site_id: str, data: dict[str, Any]):
    conn = uow.session.connection()
    store.site(conn, site_id)
    rid = store.new_id()
    if not store.add_room(conn, rid, site_id, data):
        raise conflict("name", f"the site already has a room {data['name']!r}")
    return rid


def add_availability(uow: UnitOfWork, data: dict[str, Any]):
    """A weekly window (site-local wall-clock times) when a clinician sees clients at a site."""
    conn = uow.session.connection()
    store.site(conn, data["site_id"])
    aid = store.new_id()
    store.add_availability(conn, aid, data)
    return aid


def add_exception(uow: UnitOfWork, data: dict[str, Any]):
    """Leave (a clinician), a holiday (a site), or both."""
    eid = store.new_id()
    store.add_exception(uow.session.connection(), eid, data["clinician_id"], data["site_id"], data["starts_at"],
                        data["ends_at"], data["reason"])
    return eid
