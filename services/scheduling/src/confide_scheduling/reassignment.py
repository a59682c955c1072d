"""The reassignment queue: sessions still to come that their clinician may no
longer practise (a licence suspended, revoked or lapsed; a supervision ended),
flagged by ``licensure`` with every reason -- and giving such a session (or it
and the rest of its series) to another clinician, who must be licensed for it,
available and free then."""

from __future__ import annotations

from typing import Any

from confide_access import Action, Caller, record_access
from confide_contracts import scheduling as events
from confide_contracts.errors import BookingConflict, FieldError, invalid
from confide_contracts.paging import page
from confide_messaging import UnitOfWork

from confide_scheduling import booking, store
from confide_scheduling import models as m
from confide_scheduling.domain import policy
from confide_scheduling.domain.appointment import must_be_booked

SIDES = {"clinician": "clinician_id", "co_therapist": "co_therapist_id"}


def queue(uow: UnitOfWork, who: Caller, q: dict[str, Any]) -> dict[str, Any]:
    """Flagged sessions, soonest first, with the reasons and the clients' names;
    each client on it is an access recorded."""
    conn = uow.session.connection()
    a = m.appointments
    sites, clinician_id = policy.schedule_scope(who, q["clinician_id"])
    query = store.flagged_query(sites, clinician_id, q["site_id"])
    found = page(conn, query, {"starts": (a.c.starts_at, a.c.id)}, q, lambda row: row.id)
    found["items"] = store.appointments(conn, found["items"])  # (the page's, in one statement)
    names = store.client_names(conn, {c for item in found["items"] for c in item["client_ids"]})
    with uow.batched():
        for item in found["items"]:
            item["clients"] = [{"id": c, "name": names.get(c)} for c in item["client_ids"]]
            for client in item["client_ids"]:
                record_access(uow, who, action=Action.READ, resource_type="Appointment", resource_id=item["id"],
                              client_id=client, site_id=item["site_id"])
    return found


def reassign(uow: UnitOfWork, authorize: booking.Authorize, appointment_id, data: dict[str, Any]) -> dict[str, Any]:
    """To ``clinician_id``, in the place of the clinician or the co-therapist
    (``replaces``): this session, or (``scope: following``) it and the rest of
    its series. The caller must be able to book for both clinicians (the desk:
    a clinician may not take a colleague's session). All or none; a single
    session's refusal is its own (not licensed, not available, taken)."""
    conn = uow.session.connection()
    row = booking.load(conn, appointment_id)
    new, side = data["clinician_id"], SIDES[data["replaces"]]
    other = "co_therapist_id" if side == "clinician_id" else "clinician_id"
    if getattr(row, side) is None:
        raise invalid("replaces", "the session has no co-therapist")
    authorize(row.site_id, row.clinician_id)
    who = authorize(row.site_id, new)
    must_be_booked(row.status)
    site = store.site(conn, row.site_id)
    refusals: list[tuple[Any, FieldError]] = []
    moving = booking.targets(conn, row, data["scope"])
    for target in moving:
        details = {**store.appointment(conn, target.id), side: new}
        try:
            if getattr(target, side) is None:
                raise invalid("replaces", "the session has no co-therapist")
            if new == details[other]:
                raise invalid("clinician_id", f"is the session's {other.removesuffix('_id').replace('_', '-')}")
            booking.check_bookable(conn, site, details, target.starts_at, target.ends_at, field="clinician_id")
            try:
                store.reassign_appointment(conn, target, side, new)
            except store.Overlap as taken:
                raise booking.conflict(taken, site) from None
        except FieldError as refused:
            refusals.append((target, refused))
    if len(refusals) == 1 and len(moving) == 1:
        raise refusals[0][1]
    if refusals:
        problems: dict[str, list[str]] = {}
        for target, refused in refusals:
            booking.gather(problems, refused, f"{target.starts_at:%Y-%m-%d}")
        raise BookingConflict(problems)
    moved = store.appointments(conn, [t.id for t in moving])
    with uow.batched():
        for appointment in moved:
            for client in appointment["client_ids"]:
                record_access(uow, who, action=Action.UPDATE, resource_type="Appointment",
                              resource_id=appointment["id"], client_id=client, site_id=site.id)
            uow.emit(events.APPOINTMENT_RESCHEDULED, store.payload_of(appointment), actor=who.actor,
                     site_id=site.id)
    return {"reassigned": moved}
