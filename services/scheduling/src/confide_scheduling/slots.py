"""Free slots for a clinician at a site: availability (site-local wall-clock
times, so correct across daylight saving), minus leave, holidays and bookings;
in person only where a room with the capacity is free; only on days the
clinician may practise for the client's jurisdiction."""

from __future__ import annotations

from datetime import date
from typing import Any

from confide_messaging import UnitOfWork

from confide_scheduling import licensure, store
from confide_scheduling.domain.localtime import zone
from confide_scheduling.domain.slots import grid_slots, is_free, merge


def find(uow: UnitOfWork, q: dict[str, Any]) -> list[dict[str, Any]]:
    conn = uow.session.connection()
    site = store.site(conn, q["site_id"])
    tz = zone(site.time_zone)
    jurisdiction = q["client_jurisdiction"] or site.jurisdiction
    if q["modality"] == "in_person":
        jurisdiction = site.jurisdiction
    windows = store.availability_windows(conn, q["clinician_id"], site, q["from_date"], q["to_date"])
    if not windows:
        return []
    span_start, span_end = windows[0][0], max(end for _, end in windows)
    busy = merge(store.busy(conn, "clinician", [q["clinician_id"]], span_start, span_end)
                 + store.exceptions(conn, q["clinician_id"], site.id, span_start, span_end))
    rooms = []
    if q["modality"] == "in_person":
        candidates = store.rooms_for(conn, site.id, q["clients"])
        taken = store.busy_by_party(conn, "room", [str(r.id) for r in candidates], span_start, span_end)
        rooms = [(r, merge(taken.get(str(r.id), []))) for r in candidates]
        if not rooms:
            return []
    allowed_days: dict[date, bool] = {}
    facts = store.licensure_facts(conn, q["clinician_id"])
    slots = []
    for start, end in grid_slots(windows, busy, q["minutes"], q["step"], store.now()):
        day = start.astimezone(tz).date()
        if day not in allowed_days:
            allowed_days[day] = licensure.answer(conn, q["clinician_id"], q["service_kind"], jurisdiction,
                                                 q["modality"], day, facts).allowed
        if not allowed_days[day]:
            continue
        room = None
        if rooms:
            room = next((r for r, taken_times in rooms if is_free(taken_times, start, end)), None)
            if room is None:
                continue
        slots.append({"starts_at": start.isoformat(), "ends_at": end.isoformat(),
                      "local_start": start.astimezone(tz).isoformat(), "room_id": str(room.id) if room else None})
    return slots
