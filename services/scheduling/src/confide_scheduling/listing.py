"""Lists of what bookings are made against -- sites, rooms, availability, leave
-- and of the waitlist, each filtered, sorted and paged by key
(:mod:`confide_contracts.paging`) and kept to what the caller may see: their
sites, or a clinician their own. The waitlist names clients, so each entry
listed is an access recorded for its client."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from confide_access import Action, Caller, record_access
from confide_contracts.paging import page
from confide_messaging import UnitOfWork
from sqlalchemy import DateTime, and_, func, or_, select

from confide_scheduling import models as m
from confide_scheduling import store
from confide_scheduling.domain import policy
from confide_scheduling.waitlist import offered


def sites(uow: UnitOfWork, who: Caller, q: dict[str, Any]) -> dict[str, Any]:
    s = m.sites
    query = select(s)
    if (mine := policy.site_filter(who)) is not None:
        query = query.where(s.c.id.in_(sorted(mine)))
    if q["jurisdiction"]:
        query = query.where(s.c.jurisdiction == q["jurisdiction"])
    return page(uow.session.connection(), query, {"name": (s.c.name, s.c.id), "id": (s.c.id,)}, q, site_view)


def site_view(row) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "address": row.address, "jurisdiction": row.jurisdiction,
            "time_zone": row.time_zone, "late_cancel_hours": row.late_cancel_hours, "offer_hours": row.offer_hours}


def rooms(uow: UnitOfWork, site_id: str, q: dict[str, Any]) -> dict[str, Any]:
    conn = uow.session.connection()
    store.site(conn, site_id)
    r = m.rooms
    query = select(r).where(r.c.site_id == site_id,
                            r.c.retired_at.is_not(None) if q["retired"] else r.c.retired_at.is_(None))
    return page(conn, query, {"name": (r.c.name, r.c.id)}, q, room_view)


def room_view(row) -> dict[str, Any]:
    return {"id": str(row.id), "site_id": row.site_id, "name": row.name, "capacity": row.capacity,
            "telehealth_capable": row.telehealth_capable,
            "retired_at": row.retired_at.isoformat() if row.retired_at else None}


def availability(uow: UnitOfWork, who: Caller, q: dict[str, Any]) -> dict[str, Any]:
    av = m.availability
    query = _scoped(select(av), av, who, q)
    if q["on"]:
        query = query.where(av.c.weekday == q["on"].weekday(), av.c.valid_from <= q["on"],
                            or_(av.c.valid_until.is_(None), av.c.valid_until >= q["on"]))
    sorts = {"clinician": (av.c.clinician_id, av.c.weekday, av.c.starts, av.c.id),
             "weekday": (av.c.weekday, av.c.starts, av.c.id)}
    return page(uow.session.connection(), query, sorts, q, availability_view)


def availability_view(row) -> dict[str, Any]:
    return {"id": str(row.id), "clinician_id": row.clinician_id, "site_id": row.site_id, "weekday": row.weekday,
            "starts": row.starts.strftime("%H:%M"), "ends": row.ends.strftime("%H:%M"),
            "valid_from": row.valid_from.isoformat(),
            "valid_until": row.valid_until.isoformat() if row.valid_until else None}


STARTS = func.lower(m.availability_exceptions.c.during, type_=DateTime(timezone=True)).label("starts_at")
ENDS = func.upper(m.availability_exceptions.c.during, type_=DateTime(timezone=True)).label("ends_at")


def exceptions(uow: UnitOfWork, who: Caller, q: dict[str, Any]) -> dict[str, Any]:
    """Leave and holidays still to come or under way (``ends_after``)."""
    ex = m.availability_exceptions
    query = select(ex.c.id, ex.c.clinician_id, ex.c.site_id, ex.c.reason, STARTS, ENDS)
    sites_kept, clinician_id = policy.schedule_scope(who, q["clinician_id"])
    mine = sorted(sites_kept)
    if who.role in policy.CLINICIANS:  # their own leave, wherever
        query = query.where(or_(ex.c.site_id.is_(None), ex.c.site_id.in_(mine)))
    else:  # leave at the desk's sites, and the all-sites leave of clinicians who work at one of them
        works_here = select(m.availability.c.clinician_id).where(m.availability.c.site_id.in_(mine))
        query = query.where(or_(ex.c.site_id.in_(mine), and_(ex.c.site_id.is_(None),
                                                               ex.c.clinician_id.in_(works_here))))
    if clinician_id is not None:
        query = query.where(ex.c.clinician_id == clinician_id)
    if q["site_id"]:
        query = query.where(or_(ex.c.site_id == q["site_id"], ex.c.site_id.is_(None)))
    query = query.where(func.upper(ex.c.during) > (q["ends_after"] or datetime.now(UTC)))
    return page(uow.session.connection(), query, {"starts": (STARTS, ex.c.id)}, q, exception_view)


def exception_view(row) -> dict[str, Any]:
    return {"id": str(row.id), "clinician_id": row.clinician_id, "site_id": row.site_id, "reason": row.reason,
            "starts_at": row.starts_at.isoformat(), "ends_at": row.ends_at.isoformat()}


def waitlist(uow: UnitOfWork, who: Caller, q: dict[str, Any]) -> dict[str, Any]:
    w, n = m.waitlist, m.client_names
    query = _scoped(select(w, n.c.display_name).outerjoin(n, n.c.client_id == w.c.client_id), w, who, q)
    query = query.where(w.c.status == q["status"] if q["status"] else w.c.status.in_(("waiting", "offered")))
    if q["service_kind"]:
        query = query.where(w.c.service_kind == q["service_kind"])
    found = page(uow.session.connection(), query, {"created": (w.c.created_at, w.c.id)}, q, waitlist_view)
    with uow.batched():
        for entry in found["items"]:
            record_access(uow, who, action=Action.READ, resource_type="Waitlist", resource_id=entry["id"],
                          client_id=entry["client_id"], site_id=entry["site_id"])
    return found


def waitlist_view(row) -> dict[str, Any]:
    return {"id": str(row.id), "site_id": row.site_id, "service_kind": row.service_kind, "client_id": row.client_id,
            "client_name": row.display_name, "clinician_id": row.clinician_id, "status": row.status,
            "offer": offered(row.offer),
            "offer_expires_at": row.offer_expires_at.isoformat() if row.offer_expires_at else None,
            "created_at": row.created_at.isoformat()}


def _scoped(query, table, who: Caller, q: dict[str, Any]):
    """Kept to the caller's sites (the desk) or their own (a clinician), then to the filters."""
    sites_kept, clinician_id = policy.schedule_scope(who, q["clinician_id"])
    query = query.where(table.c.site_id.in_(sorted(sites_kept)))
    if clinician_id is not None:
        query = query.where(table.c.clinician_id == clinician_id)
    if q["site_id"]:
        query = query.where(table.c.site_id == q["site_id"])
    return query

