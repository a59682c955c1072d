"""What a client does for themself (their own record only, the one their login
is linked to): see their appointments, cancel one within the site's policy
(inside the notice period it is a late cancellation, which billing charges as
the site's fee), ask for a time from a licensed clinician's free slots, and
answer a waitlist offer. Every appointment shown is an access recorded for the
client's own record."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from confide_access import Action, Caller, record_access
from confide_contracts.errors import BookingConflict, NotFound, conflict, invalid
from confide_contracts.paging import page
from confide_contracts.projections import own_record
from confide_messaging import UnitOfWork

from confide_scheduling import booking, daysheet, store, waitlist
from confide_scheduling import models as m
from confide_scheduling.domain import policy
from confide_scheduling.domain.appointment import WaitlistStatus


def record_of(uow: UnitOfWork, who: Caller) -> str | None:
    return own_record(uow.session.connection(), m.linked_logins, who.user_id)


def appointments(uow: UnitOfWork, who: Caller, record: str, q: dict[str, Any]) -> dict[str, Any]:
    conn = uow.session.connection()
    a = m.appointments
    query = store.client_appointments_query(record, upcoming=q["when"] == "upcoming")
    # upcoming: the soonest first; past: the latest first ("-starts" turns either round)
    sort = q["sort"] if q["when"] == "upcoming" else {"starts": "-starts", "-starts": "starts"}[q["sort"]]
    found = page(conn, query, {"starts": (a.c.starts_at, a.c.id)}, {**q, "sort": sort}, lambda row: row.id)
    found["items"] = store.appointments(conn, found["items"])  # (the page's, in one statement)
    sites = store.sites_by_id(conn, {item["site_id"] for item in found["items"]})
    items = []
    with uow.batched():
        for item in found["items"]:
            site = sites[item["site_id"]]
            view = daysheet.local_view(item, site)
            view.pop("_day")
            view.pop("client_ids")
            view["late_cancel_hours"] = site.late_cancel_hours
            items.append(view)
            record_access(uow, who, action=Action.READ, resource_type="Appointment", resource_id=item["id"],
                          client_id=record, site_id=item["site_id"])
    return {"items": items, "next_cursor": found["next_cursor"]}


def cancel(uow: UnitOfWork, who: Caller, record: str, appointment_id, reason: str, on_freed) -> dict[str, Any]:
    conn = uow.session.connection()
    row = store.appointment_row(conn, appointment_id)
    if row is None or record not in store.appointment(conn, appointment_id)["client_ids"]:
        raise NotFound(f"no appointment {appointment_id} of yours")
    decision = policy.may_cancel_own(row.kind)
    if not decision.allowed:
        raise conflict("appointment_id", decision.reason)
    if row.starts_at <= store.now():
        raise conflict("appointment_id", "has started: ask the clinic")
    done = booking.cancel(uow, lambda site_id, clinician_id: who, appointment_id,
                          {"by": "client", "reason": reason, "scope": "this"}, on_freed)["cancelled"][0]
    return {"id": done["appointment_id"], "status": "cancelled", "late": done["late"],
            "late_cancel_hours": store.site(conn, row.site_id).late_cancel_hours}


def request(uow: UnitOfWork, who: Caller, record: str, data: dict[str, Any]) -> dict[str, Any]:
    """Booked at once when the time is one of the clinician's free, licensed slots;
    in person, in the smallest room free then."""
    conn = uow.session.connection()
    if data["starts_at"] <= store.now():
        raise invalid("starts_at", "must be in the future")
    details = {**data, "client_ids": [record], "kind": "individual", "co_therapist_id": None, "room_id": None}
    site = booking.prepare(conn, details)
    ends = data["starts_at"] + timedelta(minutes=details["planned_minutes"])
    booking.check_bookable(conn, site, details, data["starts_at"], ends)
    rooms = [None] if data["modality"] == "telehealth" else [r.id for r in store.rooms_for(conn, site.id, 1)]
    # every room it may try, locked with the rest before the first is tried: in one order, in one statement
    store.lock_parties(conn, [("clinician", details["clinician_id"]), ("client", record),
                              *(("room", str(room)) for room in rooms if room)])
    taken = None
    for room in rooms:
        try:
            return booking.insert(uow, who, site, {**details, "room_id": room}, data["starts_at"], ends)
        except BookingConflict as refused:
            if "room_id" not in refused.errors:
                raise
            taken = refused
    raise taken or conflict("starts_at", f"no room at {site.name} is free then")


def offers(uow: UnitOfWork, who: Caller, record: str) -> list[dict[str, Any]]:
    found = store.offers_for(uow.session.connection(), record)
    with uow.batched():
        for entry in found:
            record_access(uow, who, action=Action.READ, resource_type="Waitlist", resource_id=str(entry.id),
                          client_id=record, site_id=entry.site_id)
    return [{"id": str(e.id), "site_id": e.site_id, "service_kind": e.service_kind,
             "offer": waitlist.offered(e.offer),
             "expires_at": e.offer_expires_at.isoformat() if e.offer_expires_at else None} for e in found]


def answer(uow: UnitOfWork, who: Caller, record: str, entry_id, accept: bool) -> dict[str, Any]:
    entry = store.waitlist_entry(uow.session.connection(), entry_id)
    if entry is None or entry.client_id != record or entry.status != WaitlistStatus.OFFERED:
        raise NotFound(f"no open offer {entry_id} of yours")
    return waitlist.answer(uow, lambda site_id, clinician_id: who, entry_id, accept)
