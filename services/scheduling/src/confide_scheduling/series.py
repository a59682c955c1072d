"""Recurring series: every occurrence of an RRULE over the site's wall-clock
time, booked all or none, with every conflict named."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from confide_access import Caller
from confide_contracts.errors import BookingConflict, FieldError, invalid
from confide_contracts.rpc.scheduling import AppointmentSchema
from confide_messaging import UnitOfWork
from eventlet import tpool

from confide_scheduling import booking, store
from confide_scheduling.domain.localtime import local_instant, zone
from confide_scheduling.domain.series import InvalidRule, occurrences


def book_series(uow: UnitOfWork, who: Caller, spec: dict[str, Any]) -> dict[str, Any]:
    data = spec["appointment"]
    conn = uow.session.connection()
    site = booking.prepare(conn, data)
    tz = zone(site.time_zone)
    first_local = data["starts_at"].astimezone(tz).replace(tzinfo=None)
    try:
        # on an OS thread: within the parts allowed, a rule whose days never meet (the first Monday that is the
        # 31st) still makes dateutil look until the year 9999 -- a second of one core, not of the whole service
        starts = tpool.execute(occurrences, spec["rrule"], first_local)
    except InvalidRule as exc:
        raise invalid("rrule", str(exc)) from None
    sid = store.new_id()
    store.add_series(conn, sid, spec["rrule"], first_local, AppointmentSchema().dump(data), who.user_id)
    problems: dict[str, list[str]] = {}
    ids = []
    for n, local in enumerate(starts):
        at = local_instant(local, tz)
        if at is None:
            problems.setdefault("rrule", []).append(f"{local:%Y-%m-%d %H:%M} does not exist in {tz.key}")
            continue
        ends = at + timedelta(minutes=data["planned_minutes"])
        try:
            booking.check_bookable(conn, site, data, at, ends)
            ids.append(booking.insert(uow, who, site, data, at, ends, sid, n))
        except FieldError as refused:
            booking.gather(problems, refused, f"occurrence {n + 1}")
    if problems:
        raise BookingConflict(problems)
    return {"series_id": str(sid), "appointments": [store.appointment(conn, a) for a in ids]}
