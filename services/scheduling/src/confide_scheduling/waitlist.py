"""The waitlist: clients waiting for a time at a site (with a clinician, or
any); a freed slot is offered to the first in line, who takes it (booked for
them) or declines it (back to waiting, offered to the next). An offer stands
for the site's ``offer_hours``; then it lapses and passes on the same way
(:func:`expire_due`, run by every replica's timer: each lapsed offer is locked
by the one that passes it on, so it passes on once). A slot is never offered
twice to one client: the offer carries who has passed it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from confide_access import Action, Caller, CallerSchema, parse_id, record_access
from confide_contracts import scheduling as events
from confide_contracts.errors import NotFound, conflict
from confide_messaging import UnitOfWork

from confide_scheduling import booking, store
from confide_scheduling.domain.appointment import AppointmentStatus, WaitlistStatus

log = logging.getLogger(__name__)
SWEEPER = CallerSchema().load({"user_id": "scheduling.waitlist", "role": "system", "purpose": "operations"})
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


def offered(offer: dict[str, Any] | None) -> dict[str, Any] | None:
    """An offer as people read it: the time offered, not whose it was or who passed it."""
    return offer and {k: offer[k] for k in ("starts_at", "ends_at", "clinician_id", "modality")}


def offer_freed(uow: UnitOfWork, who: Caller, freed, passed=()) -> None:
    """Offer a freed future appointment's time to the first suitable client
    waiting who has not passed it (``passed``: their client ids)."""
    conn = uow.session.connection()
    if freed is None or freed.starts_at <= store.now():
        return
    entry = store.next_waiting(conn, freed, passed)
    if entry is None:
        return
    offer = {"appointment_id": str(freed.id), "clinician_id": freed.clinician_id,
             "room_id": str(freed.room_id) if freed.room_id else None, "kind": freed.kind,
             "modality": freed.modality, "client_jurisdiction": freed.client_jurisdiction,
             "starts_at": freed.starts_at.isoformat(), "planned_minutes": freed.planned_minutes,
             "ends_at": freed.ends_at.isoformat(), "passed": list(passed)}
    lapses = min(store.now() + timedelta(hours=store.site(conn, entry.site_id).offer_hours), freed.starts_at)
    store.change_waitlist_entry(conn, entry.id, status=WaitlistStatus.OFFERED.value, offer=offer,
                                offer_expires_at=lapses)
    uow.emit(events.WAITLIST_OFFERED, {"entry_id": str(entry.id), "client_id": entry.client_id,
                                       "site_id": entry.site_id, "clinician_id": freed.clinician_id,
                                       "starts_at": offer["starts_at"], "ends_at": offer["ends_at"]},
             actor=who.actor, site_id=entry.site_id)


def pass_on(uow: UnitOfWork, who: Caller, entry, status: WaitlistStatus) -> None:
    """The entry's offer is declined, lapsed or withdrawn with the entry: the
    entry becomes ``status`` and the slot goes to the next in line who has not
    passed it."""
    conn = uow.session.connection()
    offer = entry.offer if entry.status == WaitlistStatus.OFFERED else None
    store.change_waitlist_entry(conn, entry.id, status=status.value, offer=None, offer_expires_at=None)
    if offer is not None:
        freed = store.appointment_row(conn, parse_id(offer["appointment_id"], "appointment_id"))
        if freed is not None and freed.status == AppointmentStatus.CANCELLED:
            offer_freed(uow, who, freed, passed=(*offer.get("passed", ()), entry.client_id))


def expire_due(uow: UnitOfWork, who: Caller, limit: int = 100) -> int:
    """Pass on every offer that has lapsed (locked: another replica skips them).
    Each in a savepoint of its own: one that cannot pass on holds up no other."""
    conn = uow.session.connection()
    lapsed = store.lapsed_offers(conn, store.now(), limit)
    passed = 0
    for entry in lapsed:
        try:
            with conn.begin_nested():
                pass_on(uow, who, entry, WaitlistStatus.WAITING)
            passed += 1
        except Exception:
            log.exception("could not pass on the lapsed offer of waitlist entry %s", entry.id)
    return passed


def remove(uow: UnitOfWork, authorize: booking.Authorize, entry_id, reason: str) -> dict[str, Any]:
    """Take an entry off the waitlist; an offer it holds goes to the next in line."""
    conn = uow.session.connection()
    entry = store.waitlist_entry(conn, entry_id, lock=True)
    if entry is None:
        raise NotFound(f"no waitlist entry {entry_id}")
    who = authorize(entry.site_id, entry.clinician_id)
    if entry.status not in (WaitlistStatus.WAITING, WaitlistStatus.OFFERED):
        raise conflict("entry_id", f"is {entry.status}, not on the waitlist")
    pass_on(uow, who, entry, WaitlistStatus.REMOVED)
    record_access(uow, who, action=Action.DELETE, resource_type="Waitlist", resource_id=str(entry_id),
                  client_id=entry.client_id, site_id=entry.site_id, reason=reason)
    return {"id": str(entry_id), "status": WaitlistStatus.REMOVED.value}


def answer(uow: UnitOfWork, authorize: booking.Authorize, entry_id, accept: bool) -> dict[str, Any]:
    conn = uow.session.connection()
    entry = store.waitlist_entry(conn, entry_id, lock=True)
    if entry is None:
        raise NotFound(f"no waitlist entry {entry_id}")
    who = authorize(entry.site_id, None)
    if entry.status != WaitlistStatus.OFFERED:
        raise conflict("entry_id", f"has no open offer ({entry.status})")
    offer = entry.offer
    if accept and entry.offer_expires_at is not None and entry.offer_expires_at <= store.now():
        raise conflict("entry_id", f"the offer lapsed at {entry.offer_expires_at.isoformat()}")
    if not accept:
        pass_on(uow, who, entry, WaitlistStatus.WAITING)
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
    booked = booking.insert(uow, who, site, data, starts, ends)
    store.change_waitlist_entry(conn, entry_id, status=WaitlistStatus.BOOKED.value, offer_expires_at=None)
    return {"id": str(entry_id), "status": WaitlistStatus.BOOKED.value, "appointment": booked}
