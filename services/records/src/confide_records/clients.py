"""Clients: registration at a home site, demographics, guardians and what they
may see, and the care team that gives clinicians access."""

from __future__ import annotations

from datetime import date
from typing import Any

from confide_access import Action, Caller, record_access
from confide_contracts import records as events
from confide_contracts.errors import conflict, invalid
from confide_messaging import UnitOfWork

from confide_records import store
from confide_records.access import Access, Work
from confide_records.domain import policy

ADULT_DAYS = 18 * 365.25


def register(uow: UnitOfWork, who: Caller, data: dict[str, Any]) -> dict[str, Any]:
    """A client with their guardians, recorded and announced (``minor`` for the services that care)."""
    guardians = data.pop("guardians")
    client_id = store.new_id()
    minor = (date.today() - data["date_of_birth"]).days < ADULT_DAYS
    conn = uow.session.connection()
    store.add_client(conn, client_id, who.user_id, data)
    for guardian in guardians:
        store.add_guardian(conn, store.new_id(), client_id, who.user_id, with_rights(who, guardian))
    record_access(uow, who, action=Action.CREATE, resource_type="Client", resource_id=str(client_id),
                  client_id=str(client_id), site_id=data["home_site_id"])
    uow.emit(events.CLIENT_REGISTERED, {"client_id": str(client_id), "home_site_id": data["home_site_id"],
                                        "minor": minor, "display_name": events.display_name(data)},
             actor=who.actor, site_id=data["home_site_id"])
    return store.client(conn, client_id)


def read(client_id) -> Work:
    return lambda a: store.client(a.conn, client_id)


def update(client_id, data: dict[str, Any]) -> Work:
    def work(a: Access):
        before = events.display_name(store.client(a.conn, client_id))
        store.change_client(a.conn, client_id, data)
        after = store.client(a.conn, client_id)
        if events.display_name(after) != before:
            a.uow.emit(events.CLIENT_RENAMED, {"client_id": str(client_id), "display_name": events.display_name(after)},
                       actor=a.caller.actor, site_id=after["home_site_id"])
        return after
    return work


def with_rights(who: Caller, guardian: dict[str, Any]) -> dict[str, Any]:
    """The guardian as recorded: clinical rights asked by staff wait for a clinician."""
    granted, requested = policy.guardian_rights(who, guardian["may_see"])
    return {**guardian, "may_see": granted, "requested": requested,
            "approved_by": who.user_id if set(granted) & policy.CLINICAL else None}


def add_guardian(client_id, data: dict[str, Any]) -> Work:
    def work(a: Access):
        gid = store.new_id()
        store.add_guardian(a.conn, gid, client_id, a.caller.user_id, with_rights(a.caller, data))
        a.resource_id = str(gid)
        return next(g for g in store.client(a.conn, client_id)["guardians"] if g["id"] == str(gid))
    return work


def join_care_team(client_id, data: dict[str, Any]) -> Work:
    def work(a: Access):
        if not store.join_care_team(a.conn, client_id, a.caller.user_id, data):
            if data["role"] == "primary":
                raise conflict("role", "the client already has a primary clinician")
            raise conflict("clinician_id", "already on the care team")
        a.resource_id = data["clinician_id"]
        return store.care_team(a.conn, client_id)
    return work


def leave_care_team(client_id, clinician_id: str) -> Work:
    def work(a: Access):
        if not store.leave_care_team(a.conn, client_id, clinician_id):
            raise invalid("clinician_id", "is not on the care team")
        a.resource_id = clinician_id
        return store.care_team(a.conn, client_id)
    return work


def care_team(client_id) -> Work:
    return lambda a: store.care_team(a.conn, client_id)
