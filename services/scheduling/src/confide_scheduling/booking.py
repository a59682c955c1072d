"""Booking and changing appointments, each in one transaction: the licensure
check against the local projection, the appointment, one row per party
(PostgreSQL's exclusion constraint refuses any overlap, so of two concurrent
bookings of the same clinician, client or room only one commits), the access
events naming its clients and the lifecycle event in the outbox.

``authorize(site_id, clinician_id)`` is the entrypoint's policy check: it
returns the caller, or records the refusal and raises."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from confide_access import Action, Caller, record_access
from confide_contracts import scheduling as events
from confide_contracts.errors import BookingConflict, FieldError, NotFound, NotLicensed, invalid
from confide_messaging import UnitOfWork

from confide_scheduling import licensure, store
from confide_scheduling.domain.appointment import ACTIVE, AppointmentStatus, must_be_booked, transition
from confide_scheduling.domain.localtime import local_instant, zone
from confide_scheduling.domain.slots import subtract

Authorize = Callable[[str, "str | None"], Caller]

FIELD_OF_PARTY = {"clinician": "clinician_id", "client": "client_ids", "room": "room_id"}
# PostgreSQL's detail of an exclusion violation: "=(kind, id, ["start","end"))"
CONFLICT_DETAIL = re.compile(r"=\((?P<kind>\w+), (?P<id>[^,]+), \[\"?(?P<start>[^\",]+)\"?,")


def book(uow: UnitOfWork, who: Caller, data: dict[str, Any]) -> dict[str, Any]:
    """Refused with ``BookingConflict`` (what collides), ``NotLicensed`` (every
    reason) or ``InvalidRequest``."""
    conn = uow.session.connection()
    site = prepare(conn, data)
    ends = data["starts_at"] + timedelta(minutes=data["planned_minutes"])
    check_bookable(conn, site, data, data["starts_at"], ends)
    return insert(uow, who, site, data, data["starts_at"], ends)


def prepare(conn, data: dict[str, Any]) -> Any:
    """The site, with the session's jurisdiction and room checked against it."""
    site = store.site(conn, data["site_id"])
    if data["modality"] == "in_person":
        if data.get("client_jurisdiction") and data["client_jurisdiction"] != site.jurisdiction:
            raise invalid("client_jurisdiction", f"an in-person session is in {site.jurisdiction}")
        data["client_jurisdiction"] = site.jurisdiction
    if data.get("room_id"):
        room = store.room(conn, data["room_id"], share=True)  # (not retired under us)
        if room is None or room.site_id != site.id:
            raise invalid("room_id", f"is not a room of site {site.id}")
        if room.retired_at is not None:
            raise invalid("room_id", f"{room.name} is retired from booking")
        if room.capacity < len(data["client_ids"]):
            raise invalid("room_id", f"{room.name} holds {room.capacity}, not {len(data['client_ids'])} clients")
        if data["modality"] == "telehealth" and not room.telehealth_capable:
            raise invalid("room_id", f"{room.name} is not equipped for telehealth")
    return site


def check_bookable(conn, site, data: dict[str, Any], starts: datetime, ends: datetime,
                   field: str = "starts_at") -> None:
    """Licensed for the session that day, and inside the clinician's availability."""
    tz = zone(site.time_zone)
    day = starts.astimezone(tz).date()
    for clinician in filter(None, (data["clinician_id"], data.get("co_therapist_id"))):
        verdict = licensure.answer(conn, clinician, data["service_kind"], data["client_jurisdiction"],
                                   data["modality"], day)
        if not verdict.allowed:
            raise NotLicensed({"clinician_id" if clinician == data["clinician_id"] else "co_therapist_id":
                               verdict.reasons})
    windows = store.availability_windows(conn, data["clinician_id"], site, day, day)
    closed = store.exceptions(conn, data["clinician_id"], site.id, starts, ends)
    if not any(w_start <= starts and ends <= w_end for w_start, w_end in subtract(windows, closed)):
        local = starts.astimezone(tz)
        raise invalid(field, f"{local:%a %Y-%m-%d %H:%M} ({site.time_zone}) is outside "
                             f"{data['clinician_id']}'s availability at {site.id}")


def insert(uow: UnitOfWork, who: Caller, site, data: dict[str, Any], starts: datetime, ends: datetime,
           series_id=None, occurrence=None) -> dict[str, Any]:
    """The appointment as booked (:func:`store.appointment`), its events written."""
    conn = uow.session.connection()
    aid = store.new_id()
    values = {k: data.get(k) for k in ("site_id", "room_id", "clinician_id", "co_therapist_id", "kind",
                                       "service_kind", "modality", "client_jurisdiction", "planned_minutes")}
    parties = [("clinician", data["clinician_id"])] + [("client", c) for c in data["client_ids"]]
    if data.get("co_therapist_id"):
        parties.append(("clinician", data["co_therapist_id"]))
    if data.get("room_id"):
        parties.append(("room", str(data["room_id"])))
    try:
        store.add_appointment(conn, aid, {"series_id": series_id, "occurrence": occurrence,
                                          "status": AppointmentStatus.BOOKED.value, "created_by": who.user_id,
                                          **values}, parties, starts, ends)
    except store.Overlap as taken:
        raise conflict(taken, site) from None
    booked = store.appointment(conn, aid)
    with uow.batched():  # (its accesses and the booking: one insert)
        for client in data["client_ids"]:
            record_access(uow, who, action=Action.CREATE, resource_type="Appointment", resource_id=str(aid),
                          client_id=client, site_id=site.id)
        uow.emit(events.APPOINTMENT_BOOKED, store.payload_of(booked), actor=who.actor, site_id=site.id)
    return booked


def conflict(taken: store.Overlap, site) -> BookingConflict:
    """Who or what is taken, and from when in the site's time."""
    found = CONFLICT_DETAIL.search(taken.detail)
    if not found:
        return BookingConflict({"starts_at": ["overlaps another appointment"]})
    at = datetime.fromisoformat(found["start"].replace(" ", "T"))
    local = at.astimezone(zone(site.time_zone))
    kind = found["kind"]
    return BookingConflict({FIELD_OF_PARTY.get(kind, "starts_at"): [
        f"{kind} {found['id']} already has an appointment from {local:%Y-%m-%d %H:%M} ({site.time_zone})"]})


def gather(problems: dict[str, list[str]], refused: FieldError, prefix: str) -> None:
    """Collect one occurrence's refusals, so a series is refused whole with every reason."""
    for field, messages in refused.errors.items():
        problems.setdefault(field, []).extend(f"{prefix}: {msg}" for msg in messages)


def load(conn, appointment_id):
    row = store.appointment_row(conn, appointment_id, lock=True)
    if row is None:
        raise NotFound(f"no appointment {appointment_id}")
    return row


def targets(conn, row, scope: str) -> list:
    """The appointment, or it and the series' later occurrences still to happen
    (those moved on their own excepted)."""
    if scope == "this" or row.series_id is None:
        return [row]
    return store.series_from(conn, row)


def reschedule(uow: UnitOfWork, authorize: Authorize, appointment_id, data: dict[str, Any]) -> dict[str, Any]:
    """Move one appointment, or (``scope: following``) it and every later
    occurrence of its series by the same wall-clock shift."""
    conn = uow.session.connection()
    row = load(conn, appointment_id)
    who = authorize(row.site_id, row.clinician_id)
    must_be_booked(row.status)
    site = store.site(conn, row.site_id)
    tz = zone(site.time_zone)
    old_local = row.starts_at.astimezone(tz).replace(tzinfo=None)
    shift = data["starts_at"].astimezone(tz).replace(tzinfo=None) - old_local
    moving = targets(conn, row, data["scope"])
    moved = []
    problems: dict[str, list[str]] = {}
    # every party's claim lock (and the new room's) before any of their rows is touched, in one statement
    store.lock_parties(conn, [*store.parties_of(conn, [t.id for t in moving]),
                              *([("room", str(data["room_id"]))] if data["room_id"] else [])])
    for target in moving:  # free their slots first, so a series can slide over itself
        store.release_parties(conn, target.id)
    for target in moving:
        local = target.starts_at.astimezone(tz).replace(tzinfo=None) + shift
        starts = local_instant(local, tz)
        if starts is None:
            problems.setdefault("starts_at", []).append(f"{local:%Y-%m-%d %H:%M} does not exist in {tz.key}")
            continue
        ends = starts + timedelta(minutes=target.planned_minutes)
        details = store.appointment(conn, target.id)
        details["room_id"] = data["room_id"] or target.room_id
        try:
            prepare(conn, details)  # the room: of this site, big enough, equipped
            check_bookable(conn, site, details, starts, ends)
            try:
                store.move_appointment(conn, target, starts, ends, details["room_id"],
                                       detached=data["scope"] == "this")
            except store.Overlap as taken:
                raise conflict(taken, site) from None
        except FieldError as refused:
            gather(problems, refused, f"{local:%Y-%m-%d}")
            continue
        moved.append(target.id)
    if problems:
        raise BookingConflict(problems)
    now_at = store.appointments(conn, moved)
    for appointment in now_at:
        uow.emit(events.APPOINTMENT_RESCHEDULED, store.payload_of(appointment), actor=who.actor, site_id=site.id)
    return {"moved": now_at}


def cancel(uow: UnitOfWork, authorize: Authorize, appointment_id, data: dict[str, Any],
           on_freed: Callable[[UnitOfWork, Caller, Any], None]) -> dict[str, Any]:
    """Cancel by the client or the clinic; late when inside the site's notice
    period. Each freed slot goes to ``on_freed`` (the waitlist), in order."""
    conn = uow.session.connection()
    row = load(conn, appointment_id)
    who = authorize(row.site_id, row.clinician_id)
    must_be_booked(row.status)
    site = store.site(conn, row.site_id)
    now = store.now()
    cancelled = []
    for target in targets(conn, row, data["scope"]):
        late = target.starts_at - now < timedelta(hours=site.late_cancel_hours)
        set_status(conn, target.id, AppointmentStatus.CANCELLED, cancelled_by=data["by"], late=late,
                   status_reason=data["reason"])
        payload = store.event_payload(conn, target.id)
        uow.emit(events.APPOINTMENT_CANCELLED, payload, actor=who.actor, site_id=site.id)
        on_freed(uow, who, target)
        cancelled.append(payload)
    return {"cancelled": cancelled}


def set_status(conn, appointment_id, status: AppointmentStatus, **values) -> None:
    store.change_appointment(conn, appointment_id, status=status.value, **values)
    if status not in ACTIVE:
        store.release_parties(conn, appointment_id)


EVENT_OF = {AppointmentStatus.CHECKED_IN: events.APPOINTMENT_CHECKED_IN,
            AppointmentStatus.COMPLETED: events.APPOINTMENT_COMPLETED,
            AppointmentStatus.NO_SHOW: events.APPOINTMENT_NO_SHOW}


def advance(uow: UnitOfWork, authorize: Authorize, appointment_id, status: AppointmentStatus,
            **values) -> dict[str, Any]:
    """Check in, complete or mark a no-show, with the event that announces it."""
    conn = uow.session.connection()
    row = load(conn, appointment_id)
    who = authorize(row.site_id, row.clinician_id)
    transition(row.status, status)
    if status == AppointmentStatus.COMPLETED and values.get("minutes") is None:
        values["minutes"] = row.planned_minutes  # as planned, unless said otherwise
    set_status(conn, appointment_id, status, **values)
    appointment = store.appointment(conn, appointment_id)
    uow.emit(EVENT_OF[status], store.payload_of(appointment), actor=who.actor, site_id=row.site_id)
    return appointment
