"""Sites, rooms, availability and leave: what bookings are made against."""

from __future__ import annotations

from typing import Any

from confide_access import load
from confide_contracts.errors import NotFound, conflict
from confide_contracts.rpc.scheduling import AvailabilitySchema
from confide_messaging import UnitOfWork
from sqlalchemy.exc import IntegrityError

from confide_scheduling import listing, store
from confide_scheduling import models as m


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


# --- changes and removals ----------------------------------------------------------------
def existing(uow: UnitOfWork, table, row_id, field: str):
    """The row a change names (its site decides who may change it), or NotFound naming ``field``."""
    row = store.row_of(uow.session.connection(), table, row_id)
    if row is None:
        raise NotFound(f"no {field.removesuffix('_id').replace('_', ' ')} {row_id}")
    return row


def change_site(uow: UnitOfWork, site_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    conn = uow.session.connection()
    store.site(conn, site_id)
    return listing.site_view(store.change(conn, m.sites, site_id, **changes))


def change_room(uow: UnitOfWork, room_id, changes: dict[str, Any]) -> dict[str, Any]:
    conn = uow.session.connection()
    room = store.row_of(conn, m.rooms, room_id, lock=True)
    if room.retired_at is not None:
        raise conflict("room_id", f"{room.name} is retired")
    booked = store.booked_in_room(conn, room_id)
    if changes.get("capacity") is not None and booked:
        largest = max(len(store.appointment(conn, a.id)["client_ids"]) for a in booked)
        if largest > changes["capacity"]:
            raise conflict("capacity", f"a session still to come in {room.name} has {largest} clients")
    if changes.get("telehealth_capable") is False and any(a.modality == "telehealth" for a in booked):
        raise conflict("telehealth_capable", f"a telehealth session is still to come in {room.name}")
    try:
        with conn.begin_nested():
            row = store.change(conn, m.rooms, room_id, **changes)
    except IntegrityError:
        raise conflict("name", f"the site already has a room {changes['name']!r}") from None
    return listing.room_view(row)


def retire_room(uow: UnitOfWork, room_id) -> dict[str, Any]:
    """No longer booked; kept for the sessions held in it. Refused while sessions are still to come there."""
    conn = uow.session.connection()
    room = store.row_of(conn, m.rooms, room_id, lock=True)
    booked = store.booked_in_room(conn, room_id)
    if booked:
        raise conflict("room_id", f"{len(booked)} session(s) still to come in {room.name}, the first "
                                  f"{booked[0].starts_at.isoformat()}: move them first")
    row = room if room.retired_at is not None else store.change(conn, m.rooms, room_id, retired_at=store.now())
    return listing.room_view(row)


def change_availability(uow: UnitOfWork, window, changes: dict[str, Any]) -> dict[str, Any]:
    """A window's days and hours, checked whole as the window they make (``ends`` after ``starts``)."""
    merged = {**listing.availability_view(window), **AvailabilitySchema().dump(changes)}
    data = load(AvailabilitySchema(), {k: v for k, v in merged.items() if k != "id"})
    row = store.change(uow.session.connection(), m.availability, window.id,
                       **{k: data[k] for k in ("weekday", "starts", "ends", "valid_from", "valid_until")})
    return listing.availability_view(row)


def remove(uow: UnitOfWork, table, row_id) -> None:
    store.remove(uow.session.connection(), table, row_id)
