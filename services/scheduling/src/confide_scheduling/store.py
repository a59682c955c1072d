"""Reads of the scheduling database that the service composes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import uuid_utils.compat as uuid_compat
from confide_access import InvalidRequest
from confide_persistence import plain
from psycopg.types.range import Range
from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from confide_scheduling import models as m
from confide_scheduling.domain.localtime import instant, zone


def new_id():
    return uuid_compat.uuid7()


def now() -> datetime:
    return datetime.now(UTC)


def site(conn: Connection, site_id: str):
    row = conn.execute(select(m.sites).where(m.sites.c.id == site_id)).first()
    if row is None:
        raise InvalidRequest({"site_id": [f"no site {site_id}"]})
    return row


def appointment(conn: Connection, aid) -> dict[str, Any]:
    row = conn.execute(select(m.appointments).where(m.appointments.c.id == aid)).first()
    out = plain(row)
    parties = m.appointment_parties
    out["client_ids"] = sorted(conn.execute(select(parties.c.party_id).where(
        parties.c.appointment_id == aid, parties.c.party_kind == "client")).scalars())
    return out


def event_payload(conn: Connection, aid) -> dict[str, Any]:
    a = appointment(conn, aid)
    keys = ("series_id", "site_id", "room_id", "clinician_id", "co_therapist_id", "client_ids", "kind",
            "service_kind", "modality", "client_jurisdiction", "starts_at", "ends_at", "planned_minutes", "status",
            "minutes", "cancelled_by", "late", "patient_present", "interactive_complexity")
    payload = {k: a[k] for k in keys}
    payload["appointment_id"] = a["id"]
    payload["reason"] = a["status_reason"]
    return payload


def availability_windows(conn: Connection, clinician_id: str, site_row, first: date, last: date):
    """The clinician's weekly windows at the site as UTC intervals, day by day in
    the site's zone (so 09:00 stays 09:00 across a daylight-saving change)."""
    tz = zone(site_row.time_zone)
    av = m.availability
    templates = conn.execute(select(av).where(
        av.c.clinician_id == clinician_id, av.c.site_id == site_row.id, av.c.valid_from <= last,
        or_(av.c.valid_until.is_(None), av.c.valid_until >= first))).all()
    windows = []
    day = first
    while day <= last:
        for t in templates:
            if t.weekday == day.weekday() and t.valid_from <= day and (t.valid_until is None or day <= t.valid_until):
                start, end = instant(day, t.starts, tz), instant(day, t.ends, tz)
                if start is not None and end is not None and end > start:
                    windows.append((start, end))
        day += timedelta(days=1)
    return sorted(windows)


def exceptions(conn: Connection, clinician_id: str, site_id: str, start: datetime, end: datetime):
    ex = m.availability_exceptions
    rows = conn.execute(select(ex.c.during).where(
        ex.c.during.op("&&")(Range(start, end)),
        or_(ex.c.clinician_id == clinician_id, ex.c.clinician_id.is_(None) & (ex.c.site_id == site_id)),
        or_(ex.c.site_id.is_(None), ex.c.site_id == site_id))).scalars()
    return [(r.lower, r.upper) for r in rows]


def busy_by_party(conn: Connection, kind: str, ids: list[str], start: datetime, end: datetime):
    p = m.appointment_parties
    out: dict[str, list] = {}
    if not ids:
        return out
    rows = conn.execute(select(p.c.party_id, p.c.during).where(
        p.c.party_kind == kind, p.c.party_id.in_(ids), p.c.active, p.c.during.op("&&")(Range(start, end))))
    for party, during in rows:
        out.setdefault(party, []).append((during.lower, during.upper))
    return out


def busy(conn: Connection, kind: str, ids: list[str], start: datetime, end: datetime):
    return [interval for intervals in busy_by_party(conn, kind, ids, start, end).values() for interval in intervals]


def find_appointments(conn: Connection, q: dict) -> list[dict[str, Any]]:
    a, p = m.appointments, m.appointment_parties
    query = select(a.c.id).where(a.c.starts_at >= q["starts_from"], a.c.starts_at < q["starts_before"])
    if q.get("site_id"):
        query = query.where(a.c.site_id == q["site_id"])
    if q.get("clinician_id"):
        query = query.where(or_(a.c.clinician_id == q["clinician_id"], a.c.co_therapist_id == q["clinician_id"]))
    if q.get("client_id"):
        query = query.where(a.c.id.in_(select(p.c.appointment_id).where(p.c.party_kind == "client",
                                                                        p.c.party_id == q["client_id"])))
    ids = conn.execute(query.order_by(a.c.starts_at).limit(500)).scalars().all()
    return [appointment(conn, i) for i in ids]


def count(conn: Connection, table) -> int:
    return conn.execute(select(func.count()).select_from(table)).scalar()
