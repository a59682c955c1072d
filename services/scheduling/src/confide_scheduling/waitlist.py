"""The waitlist: clients waiting for a time at a site (with a clinician, or
any); a freed slot is offered to the first in line, who takes it (booked for
them) or declines it (back to waiting, offered to the next)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from confide_access import Action, Caller, parse_id, record_access
from confide_contracts import scheduling as events
from confide_contracts.errors import NotFound, conflict
from confide_messaging import UnitOfWork

from confide_scheduling import booking, store
from confide_scheduling.domain.appointment import WaitlistStatus

# the kinds a one-client slot is booked as when a waitlisted client takes it
ONE_CLIENT_KINDS = ("intake", "individual", "child")


def add(uow: UnitOfWork, who: Caller, data: dict[str, Any]):
    conn = uow.session.connection()
    store.site(conn, data["site_id"])
    wid = store.new_id()
    store.add_waitlist_entry(conn, wid, data)
    record_access(uow, who, action=Action.CREATE, resource_type="Waitlist", resource_id=str(wid),
                  client_id=data["client_id"], site_id=data["site_id"])
    return wid


def offer_freed(uow: UnitOfWork, who: Caller, freed, skip=()) -> None:
    """Offer a freed future appointment's time to the first suitable client waiting."""
    conn = uow.session.connection()
    entry = store.next_waiting(conn, freed, skip)
    if entry is None or freed.starts_at <= store.now():
        return
    offer = {"appointment_id": str(freed.id), "clinician_id": freed.clinician_id,
             "room_id": str(freed.room_id) if freed.room_id else None, "kind": freed.kind,
             "modality": freed.modality, "client_jurisdiction": freed.client_jurisdiction,
             "starts_at": freed.starts_at.isoformat(), "planned_minutes": freed.planned_minutes,
             "ends_at": freed.ends_at.isoformat()}
    store.change_waitlist_entry(conn, entry.id, status=WaitlistStatus.OFFERED.value, offer=offer)
    uow.emit(events.WAITLIST_OFFERED, {"entry_id": str(entry.id), "client_id": entry.client_id,
                                       "site_id": entry.site_id, "clinician_id": freed.clinician_id,
                                       "starts_at": offer["starts_at"], "ends_at": offer["ends_at"]},
             actor=who.actor, site_id=entry.site_id)


def answer(uow: UnitOfWork, authorize: booking.Authorize, entry_id, accept: bool) -> dict[str, Any]:
    conn = uow.session.connection()
    entry = store.waitlist_entry(conn, entry_id, lock=True)
    if entry is None:
        raise NotFound(f"no waitlist entry {entry_id}")
    who = authorize(entry.site_id, None)
    if entry.status != WaitlistStatus.OFFERED:
        raise conflict("entry_id", f"has no open offer ({entry.status})")
    offer = entry.offer
    if not accept:
        store.change_waitlist_entry(conn, entry_id, status=WaitlistStatus.WAITING.value, offer=None)
        freed = store.appointment_row(conn, parse_id(offer["appointment_id"], "appointment_id"))
        offer_freed(uow, who, freed, skip=(entry_id,))
        return {"id": str(entry_id), "status": WaitlistStatus.WAITING.value}
    room = parse_id(offer["room_id"], "room_id") if offer["room_id"] else None
    data = {"site_id": entry.site_id, "room_id": room,
            "clinician_id": offer["clinician_id"], "co_therapist_id": None, "client_ids": [entry.client_id],
            "kind": offer["kind"] if offer["kind"] in ONE_CLIENT_KINDS else "individual",
            "service_kind": entry.service_kind, "modality": offer["modality"],
            "client_jurisdiction": offer["client_jurisdiction"], "planned_minutes": offer["planned_minutes"]}
    site = booking.prepare(conn, data)
    starts = datetime.fromisoformat(offer["starts_at"])
    ends = starts + timedelta(minutes=data["planned_minutes"])
    booking.check_bookable(conn, site, data, starts, ends)
    aid = booking.insert(uow, who, site, data, starts, ends)
    store.change_waitlist_entry(conn, entry_id, status=WaitlistStatus.BOOKED.value)
    return {"id": str(entry_id), "status": WaitlistStatus.BOOKED.value, "appointment": store.appointment(conn, aid)}
