"""Recurring series: every occurrence of an RRULE over the site's wall-clock
time, booked all or none, with every conflict named; extended (more
occurrences) or ended (none after a date). Moving or reassigning a series from
an occurrence on is ``booking.reschedule`` and ``reassignment.reassign`` with
``scope: following``."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from confide_access import Caller, load
from confide_contracts.errors import BookingConflict, FieldError, NotFound, invalid
from confide_contracts.rpc.scheduling import AppointmentSchema
from confide_messaging import UnitOfWork
from eventlet import tpool

from confide_scheduling import booking, store
from confide_scheduling.domain.localtime import local_instant, zone
from confide_scheduling.domain.series import InvalidRule, occurrences, with_end


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
    return {"series_id": str(sid), "appointments": _book(uow, who, site, data, starts, sid, 0)}


def _book(uow: UnitOfWork, who: Caller, site, data: dict[str, Any], starts: list[datetime], sid,
          first: int) -> list[dict[str, Any]]:
    """Occurrences ``first``, ``first + 1``, ... at the wall-clock ``starts``: all, or none with every conflict."""
    conn = uow.session.connection()
    tz = zone(site.time_zone)
    problems: dict[str, list[str]] = {}
    booked = []
    for n, local in enumerate(starts, start=first):
        at = local_instant(local, tz)
        if at is None:
            problems.setdefault("rrule", []).append(f"{local:%Y-%m-%d %H:%M} does not exist in {tz.key}")
            continue
        ends = at + timedelta(minutes=data["planned_minutes"])
        try:
            booking.check_bookable(conn, site, data, at, ends)
            booked.append(booking.insert(uow, who, site, data, at, ends, sid, n))
        except FieldError as refused:
            booking.gather(problems, refused, f"occurrence {n + 1}")
    if problems:
        raise BookingConflict(problems)
    return booked


def _series(conn, series_id):
    row = store.series_row(conn, series_id, lock=True)
    if row is None:
        raise NotFound(f"no appointment series {series_id}")
    return row, store.series_appointments(conn, series_id)


def extend(uow: UnitOfWork, authorize: booking.Authorize, series_id, data: dict[str, Any]) -> dict[str, Any]:
    """More occurrences (``count`` in all, or ``until`` a date), booked all or none
    as the latest occurrence stands now: its clinician, room and time of day
    (a series moved from an occurrence on goes on at its new time)."""
    conn = uow.session.connection()
    row, booked = _series(conn, series_id)
    last = booked[-1]
    # what the series is now: its latest occurrence not moved on its own
    model = next((b for b in reversed(booked) if not b.detached), last)
    who = authorize(model.site_id, model.clinician_id)
    field = "count" if data["count"] is not None else "until"
    until = datetime.combine(data["until"], time(23, 59, 59)) if data["until"] else None
    rule = with_end(row.rrule, data["count"], until)
    try:
        starts = tpool.execute(occurrences, rule, row.first_local)
    except InvalidRule as exc:
        raise invalid(field, str(exc)) from None
    added = starts[last.occurrence + 1:]
    if not added:
        raise invalid(field, f"adds no occurrence: the series has {last.occurrence + 1}")
    details = store.appointment(conn, model.id)
    template = load(AppointmentSchema(), {**row.template, **{k: details[k] for k in (
        "clinician_id", "co_therapist_id", "room_id", "modality", "client_jurisdiction", "planned_minutes")},
        "client_ids": details["client_ids"]})
    site = booking.prepare(conn, template)
    tz = zone(site.time_zone)
    shift = model.starts_at.astimezone(tz).replace(tzinfo=None) - starts[model.occurrence]
    booked = _book(uow, who, site, template, [s + shift for s in added], row.id, last.occurrence + 1)
    store.change_series(conn, row.id, rule)
    return {"series_id": str(row.id), "rrule": rule, "appointments": booked}


def end(uow: UnitOfWork, authorize: booking.Authorize, series_id, data: dict[str, Any],
        on_freed) -> dict[str, Any]:
    """No sessions after ``last_date`` (the site's): those booked are cancelled by
    the clinic, each freed time offered to the waitlist."""
    conn = uow.session.connection()
    row, booked = _series(conn, series_id)
    site = store.site(conn, booked[-1].site_id)
    tz = zone(site.time_zone)
    cancelled = []
    for target in booked:
        if target.status == "booked" and target.starts_at.astimezone(tz).date() > data["last_date"]:
            cancelled += booking.cancel(uow, authorize, target.id, {"by": "clinic", "reason": data["reason"],
                                                                    "scope": "this"}, on_freed)["cancelled"]
    if not cancelled:
        authorize(site.id, booked[-1].clinician_id)
    rule = row.rrule
    if booked[-1].starts_at.astimezone(tz).date() > data["last_date"]:  # (a later end changes nothing)
        rule = with_end(row.rrule, until=datetime.combine(data["last_date"], time(23, 59, 59)))
        store.change_series(conn, row.id, rule)
    return {"series_id": str(row.id), "rrule": rule, "cancelled": cancelled}
