"""The day sheet: a site's or a clinician's appointments for a day or a week,
each in its site's local time (a daylight-saving change included), with the
clients' names, modality, room and status. The names come from records'
events (``client_names``), so the sheet needs no read per client; the read is
recorded once for every client on it, under the sheet's own resource id."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from confide_access import Action, Caller, Decision, record_access
from confide_messaging import UnitOfWork

from confide_scheduling import store
from confide_scheduling.domain import policy
from confide_scheduling.domain.localtime import zone


def scope(who: Caller, q: dict[str, Any]) -> tuple[list[str] | None, str | None]:
    """(sites, clinician) the sheet covers: a clinician's own sessions unless they name a supervisee."""
    if who.role in policy.CLINICIANS:
        return ([q["site_id"]] if q["site_id"] else None), q["clinician_id"] or who.user_id
    return ([q["site_id"]] if q["site_id"] else sorted(who.sites)), q["clinician_id"]


def decide(uow: UnitOfWork, who: Caller, q: dict[str, Any]) -> Decision:
    supervisees = store.supervisees(uow.session.connection(), who.user_id, date.today()) \
        if who.role == "supervisor" else frozenset()
    return policy.may_read_day_sheet(who, q["site_id"], q["clinician_id"], supervisees)


def build(uow: UnitOfWork, who: Caller, q: dict[str, Any]) -> dict[str, Any]:
    conn = uow.session.connection()
    site_ids, clinician_id = scope(who, q)
    first = q["date"] or _today(conn, site_ids or sorted(who.sites))
    last = first + timedelta(days=q["days"])
    # a generous UTC window, then each appointment kept by its own site's local date
    since = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(hours=15)
    until = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(hours=15)
    found = store.sheet_appointments(conn, site_ids, clinician_id, since, until)
    sites = store.sites_by_id(conn, {a["site_id"] for a in found})
    rows = [row for row in (local_view(a, sites[a["site_id"]]) for a in found) if first <= row.pop("_day") < last]
    names = store.client_names(conn, {c for row in rows for c in row["client_ids"]})
    rooms = store.room_names(conn, {row["room_id"] for row in rows if row["room_id"]})
    sheet_id = f"day-sheet {q['site_id'] or clinician_id or ','.join(site_ids or [])} {first.isoformat()}"
    with uow.batched():
        for row in rows:
            row["clients"] = [{"id": c, "name": names.get(c)} for c in row.pop("client_ids")]
            row["room"] = rooms.get(row["room_id"])
            for client in row["clients"]:
                record_access(uow, who, action=Action.READ, resource_type="Appointment",
                              resource_id=sheet_id[:200], client_id=client["id"], site_id=row["site_id"])
    return {"from": first.isoformat(), "days": q["days"], "site_id": q["site_id"], "clinician_id": clinician_id,
            "appointments": rows}


def _today(conn, site_ids) -> date:
    """Today at the first of the sites known here -- for a clinician's own sheet, of the sites they
    work at (it was UTC: a clinician in New York saw tomorrow's sheet from 7 p.m.); in UTC if none is."""
    found = store.sites_by_id(conn, site_ids) if site_ids else {}
    first = next((found[site] for site in site_ids if site in found), None)
    return datetime.now(zone(first.time_zone) if first else UTC).date()


def local_view(a: dict[str, Any], site) -> dict[str, Any]:
    """An appointment as a person at the site reads it: date and times in the site's zone."""
    tz = zone(site.time_zone)
    starts = datetime.fromisoformat(a["starts_at"]).astimezone(tz)
    ends = datetime.fromisoformat(a["ends_at"]).astimezone(tz)
    return {
        "id": a["id"], "_day": starts.date(), "date": starts.date().isoformat(), "starts": starts.strftime("%H:%M"),
        "ends": ends.strftime("%H:%M"), "time_zone": site.time_zone, "utc_offset": starts.strftime("%z"),
        "starts_at": a["starts_at"], "site_id": a["site_id"], "site": site.name, "clinician_id": a["clinician_id"],
        "co_therapist_id": a["co_therapist_id"], "client_ids": a["client_ids"], "kind": a["kind"],
        "service_kind": a["service_kind"], "modality": a["modality"], "room_id": a["room_id"], "status": a["status"],
        "series_id": a["series_id"],
    }
