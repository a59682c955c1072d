"""The scheduling service's entrypoints.

A booking is one transaction: the licensure check against the local projection
of credentialing's events, the appointment, one row per party (PostgreSQL's
exclusion constraint refuses any overlap, so of two concurrent bookings of the
same clinician, client or room only one commits), the access events naming its
clients and the lifecycle event in the outbox.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from typing import Any

import confide_contracts  # noqa: F401 - registers the event schemas used here
from confide_access import (
    Action,
    Caller,
    CallerSchema,
    InvalidRequest,
    deny,
    load,
    parse_id,
    record_access,
)
from confide_contracts import credentialing as cred
from confide_contracts import scheduling as events
from confide_contracts.errors import EXPECTED, BookingConflict, FieldError, NotFound, NotLicensed, invalid
from confide_contracts.projections import SUPERVISION_EVENTS, apply_supervision
from confide_licensure import License, Supervision, may_practice
from confide_messaging import OutboxRelayRunner, UnitOfWork, UnitOfWorkProvider, handles
from nameko.rpc import rpc
from psycopg.types.range import Range
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from confide_scheduling import models as m
from confide_scheduling import store
from confide_scheduling.domain.localtime import local_instant, zone
from confide_scheduling.domain.series import InvalidRule, occurrences
from confide_scheduling.domain.slots import grid_slots, is_free, merge, subtract
from confide_scheduling.schemas import (
    AppointmentSchema,
    AvailabilitySchema,
    CancelSchema,
    CompleteSchema,
    ExceptionSchema,
    ListSchema,
    RescheduleSchema,
    RoomSchema,
    SeriesSchema,
    SiteSchema,
    SlotQuerySchema,
    WaitlistSchema,
)

log = logging.getLogger(__name__)

ACTIVE = ("booked", "checked_in")
FIELD_OF_PARTY = {"clinician": "clinician_id", "client": "client_ids", "room": "room_id"}
CONFLICT_DETAIL = re.compile(r"=\((?P<kind>\w+), (?P<id>[^,]+), \[\"?(?P<start>[^\",]+)\"?,")





class SchedulingService:
    name = "scheduling"

    uow = UnitOfWorkProvider()
    relay = OutboxRelayRunner()

    # --- authorization -----------------------------------------------------------
    def _may_book(self, caller: dict | Caller, site_id: str, clinician_id: str | None, what: str) -> Caller:
        who = caller if isinstance(caller, Caller) else load(CallerSchema(), caller)
        reason = None
        if who.role in ("front_desk", "admin"):
            if site_id not in who.sites:
                reason = f"site {site_id} is outside the caller's sites"
        elif who.role in ("clinician", "supervisor"):
            if clinician_id != who.user_id:
                reason = "clinicians book their own sessions only"
            elif site_id not in who.sites:
                reason = f"site {site_id} is outside the caller's sites"
        else:
            reason = f"role {who.role} may not {what}"
        if reason:
            deny(self.uow, who, action=Action.UPDATE, resource_type="Appointment", resource_id=what, reason=reason)
        return who

    def _admin(self, caller: dict, site_id: str | None, what: str) -> Caller:
        who = load(CallerSchema(), caller)
        if who.role != "admin" or (site_id is not None and site_id not in who.sites):
            deny(self.uow, who, action=Action.UPDATE, resource_type="Location", resource_id=site_id or what,
                 reason=f"only an admin of the site may {what}")
        return who

    # --- sites, rooms, availability ------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def create_site(self, caller: dict, site: dict) -> dict[str, Any]:
        data = load(SiteSchema(), site)
        self._admin(caller, data["id"], "create sites")
        with self.uow() as uow:
            try:
                with uow.session.begin_nested():
                    uow.session.execute(insert(m.sites).values(**data))
            except IntegrityError:
                raise invalid("id", "is already a site") from None
        return SiteSchema().dump(data)

    @rpc(expected_exceptions=EXPECTED)
    def add_room(self, caller: dict, site_id: str, room: dict) -> dict[str, Any]:
        data = load(RoomSchema(), room)
        self._admin(caller, site_id, "add rooms")
        rid = store.new_id()
        with self.uow() as uow:
            store.site(uow.session.connection(), site_id)
            try:
                with uow.session.begin_nested():
                    uow.session.execute(insert(m.rooms).values(id=rid, site_id=site_id, **data))
            except IntegrityError:
                raise invalid("name", f"the site already has a room {data['name']!r}") from None
        return {"id": str(rid), "site_id": site_id, **data}

    @rpc(expected_exceptions=EXPECTED)
    def add_availability(self, caller: dict, template: dict) -> dict[str, Any]:
        """A weekly window (site-local wall-clock times) when a clinician sees clients at a site."""
        data = load(AvailabilitySchema(), template)
        self._may_book(caller, data["site_id"], data["clinician_id"], "set availability")
        aid = store.new_id()
        with self.uow() as uow:
            store.site(uow.session.connection(), data["site_id"])
            uow.session.execute(insert(m.availability).values(id=aid, **data))
        return {"id": str(aid), **AvailabilitySchema().dump(data)}

    @rpc(expected_exceptions=EXPECTED)
    def add_exception(self, caller: dict, exception: dict) -> dict[str, Any]:
        """Leave (a clinician), a holiday (a site), or both."""
        data = load(ExceptionSchema(), exception)
        who = load(CallerSchema(), caller)
        if data["clinician_id"] is None:
            self._admin(caller, data["site_id"], "close a site")
        elif who.role in ("admin", "front_desk") and data["site_id"] is not None:
            self._may_book(who, data["site_id"], data["clinician_id"], "record leave")
        elif who.user_id != data["clinician_id"]:  # leave at every site: the clinician's own word
            deny(self.uow, who, action=Action.UPDATE, resource_type="Schedule", resource_id=data["clinician_id"],
                 reason="clinicians record their own leave; staff name the site")
        eid = store.new_id()
        with self.uow() as uow:
            uow.session.execute(insert(m.availability_exceptions).values(
                id=eid, clinician_id=data["clinician_id"], site_id=data["site_id"],
                during=Range(data["starts_at"], data["ends_at"]), reason=data["reason"]))
        return {"id": str(eid)}

    # --- licensure, from the projection -------------------------------------------
    @staticmethod
    def _licensure_facts(conn, clinician_id: str) -> tuple[list[License], list[Supervision]]:
        """The clinician's licences and supervisions (with the supervisors'
        licences) as the projection holds them, in two queries."""
        lic, s = m.licenses, m.supervisions
        supervision_rows = conn.execute(select(s).where(s.c.supervisee_id == clinician_id)).all()
        people = {clinician_id} | {r.supervisor_id for r in supervision_rows}
        held: dict[str, list[License]] = {p: [] for p in people}
        for r in conn.execute(select(lic).where(lic.c.clinician_id.in_(people))):
            held[r.clinician_id].append(License(r.id, r.type, r.jurisdiction, r.number, r.status, r.issued_on,
                                                r.expires_on))
        supervisions = [Supervision(r.supervisor_id, r.jurisdiction, r.starts_on, r.ends_on,
                                    tuple(held[r.supervisor_id])) for r in supervision_rows]
        return held[clinician_id], supervisions

    def _licensure(self, conn, clinician_id: str, service_kind: str, jurisdiction: str, modality: str, day: date,
                   facts=None):
        licenses, supervisions = facts or self._licensure_facts(conn, clinician_id)
        return may_practice(licenses, supervisions, service_kind, jurisdiction, modality, day)

    # --- booking -------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def book(self, caller: dict, appointment: dict) -> dict[str, Any]:
        """Book one appointment. Refused with ``BookingConflict`` (what collides),
        ``NotLicensed`` (every reason) or ``InvalidRequest``."""
        data = load(AppointmentSchema(), appointment)
        who = self._may_book(caller, data["site_id"], data["clinician_id"], "book")
        with self.uow() as uow:
            conn = uow.session.connection()
            site = self._prepare(conn, data)
            ends = data["starts_at"] + timedelta(minutes=data["planned_minutes"])
            self._check_bookable(conn, site, data, data["starts_at"], ends)
            aid = self._insert(uow, who, site, data, data["starts_at"], ends)
            return store.appointment(conn, aid)

    def _prepare(self, conn, data) -> Any:
        site = store.site(conn, data["site_id"])
        if data["modality"] == "in_person":
            if data.get("client_jurisdiction") and data["client_jurisdiction"] != site.jurisdiction:
                raise invalid("client_jurisdiction", f"an in-person session is in {site.jurisdiction}")
            data["client_jurisdiction"] = site.jurisdiction
        if data.get("room_id"):
            room = conn.execute(select(m.rooms).where(m.rooms.c.id == data["room_id"])).first()
            if room is None or room.site_id != site.id:
                raise invalid("room_id", f"is not a room of site {site.id}")
            if room.capacity < len(data["client_ids"]):
                raise invalid("room_id", f"{room.name} holds {room.capacity}, not {len(data['client_ids'])} clients")
            if data["modality"] == "telehealth" and not room.telehealth_capable:
                raise invalid("room_id", f"{room.name} is not equipped for telehealth")
        return site

    def _check_bookable(self, conn, site, data, starts: datetime, ends: datetime, field: str = "starts_at") -> None:
        tz = zone(site.time_zone)
        day = starts.astimezone(tz).date()
        for clinician in filter(None, (data["clinician_id"], data.get("co_therapist_id"))):
            answer = self._licensure(conn, clinician, data["service_kind"], data["client_jurisdiction"],
                                     data["modality"], day)
            if not answer.allowed:
                raise NotLicensed({"clinician_id" if clinician == data["clinician_id"] else "co_therapist_id":
                                   answer.reasons})
        windows = store.availability_windows(conn, data["clinician_id"], site, day, day)
        closed = store.exceptions(conn, data["clinician_id"], site.id, starts, ends)
        if not any(w_start <= starts and ends <= w_end for w_start, w_end in subtract(windows, closed)):
            local = starts.astimezone(tz)
            raise invalid(field, f"{local:%a %Y-%m-%d %H:%M} ({site.time_zone}) is outside "
                                 f"{data['clinician_id']}'s availability at {site.id}")

    def _insert(self, uow: UnitOfWork, who: Caller, site, data, starts, ends, series_id=None, occurrence=None):
        conn = uow.session.connection()
        aid = store.new_id()
        values = {k: data.get(k) for k in ("site_id", "room_id", "clinician_id", "co_therapist_id", "kind",
                                           "service_kind", "modality", "client_jurisdiction", "planned_minutes")}
        during = Range(starts, ends)
        parties = [("clinician", data["clinician_id"])] + [("client", c) for c in data["client_ids"]]
        if data.get("co_therapist_id"):
            parties.append(("clinician", data["co_therapist_id"]))
        if data.get("room_id"):
            parties.append(("room", str(data["room_id"])))
        try:
            with conn.begin_nested():
                conn.execute(insert(m.appointments).values(
                    id=aid, series_id=series_id, occurrence=occurrence, starts_at=starts, ends_at=ends,
                    status="booked", created_by=who.user_id, **values))
                conn.execute(insert(m.appointment_parties), [
                    {"appointment_id": aid, "party_kind": kind, "party_id": pid, "during": during}
                    for kind, pid in parties])
        except IntegrityError as exc:
            raise self._conflict(exc, site) from None
        for client in data["client_ids"]:
            record_access(uow, who, action=Action.CREATE, resource_type="Appointment", resource_id=str(aid),
                          client_id=client, site_id=site.id)
        uow.emit(events.APPOINTMENT_BOOKED, store.event_payload(conn, aid), actor=who.actor, site_id=site.id)
        return aid

    @staticmethod
    def _conflict(exc: IntegrityError, site) -> InvalidRequest:
        detail = getattr(getattr(exc.orig, "diag", None), "message_detail", None) or ""
        if "conflicts with existing key" not in detail:
            raise exc
        found = CONFLICT_DETAIL.search(detail.split("conflicts with existing key", 1)[1])
        if not found:
            return BookingConflict({"starts_at": ["overlaps another appointment"]})
        taken = datetime.fromisoformat(found["start"].replace(" ", "T"))
        local = taken.astimezone(zone(site.time_zone))
        kind = found["kind"]
        return BookingConflict({FIELD_OF_PARTY.get(kind, "starts_at"): [
            f"{kind} {found['id']} already has an appointment from {local:%Y-%m-%d %H:%M} ({site.time_zone})"]})

    @rpc(expected_exceptions=EXPECTED)
    def book_series(self, caller: dict, request: dict) -> dict[str, Any]:
        """A recurring series from an RRULE over the site's wall-clock time, e.g.
        ``FREQ=WEEKLY;INTERVAL=2;COUNT=10``. All occurrences or none: every
        conflict is named."""
        spec = load(SeriesSchema(), request)
        data = spec["appointment"]
        who = self._may_book(caller, data["site_id"], data["clinician_id"], "book")
        with self.uow() as uow:
            conn = uow.session.connection()
            site = self._prepare(conn, data)
            tz = zone(site.time_zone)
            first_local = data["starts_at"].astimezone(tz).replace(tzinfo=None)
            try:
                starts = occurrences(spec["rrule"], first_local)
            except InvalidRule as exc:
                raise invalid("rrule", str(exc)) from None
            sid = store.new_id()
            template = AppointmentSchema().dump(data)
            conn.execute(insert(m.series).values(id=sid, rrule=spec["rrule"], first_local=first_local,
                                                 template=template, created_by=who.user_id))
            problems: dict[str, list[str]] = {}
            ids = []
            for n, local in enumerate(starts):
                at = local_instant(local, tz)
                if at is None:
                    problems.setdefault("rrule", []).append(f"{local:%Y-%m-%d %H:%M} does not exist in {tz.key}")
                    continue
                ends = at + timedelta(minutes=data["planned_minutes"])
                try:
                    self._check_bookable(conn, site, data, at, ends)
                    ids.append(self._insert(uow, who, site, data, at, ends, sid, n))
                except FieldError as exc:  # each occurrence's refusals, gathered
                    for field, messages in exc.errors.items():
                        problems.setdefault(field, []).extend(f"occurrence {n + 1}: {msg}" for msg in messages)
            if problems:
                raise BookingConflict(problems)
            return {"series_id": str(sid), "appointments": [store.appointment(conn, a) for a in ids]}

    # --- changes ---------------------------------------------------------------------
    def _targets(self, conn, row, scope: str) -> list:
        """The appointment, or it and the series' later occurrences still to happen
        (those moved on their own excepted)."""
        if scope == "this" or row.series_id is None:
            return [row]
        a = m.appointments
        return conn.execute(select(a).where(
            a.c.series_id == row.series_id, a.c.occurrence >= row.occurrence, a.c.status == "booked",
            or_(a.c.id == row.id, a.c.detached.is_(False))).order_by(a.c.occurrence).with_for_update()).all()

    def _load(self, conn, appointment_id):
        row = conn.execute(select(m.appointments).where(m.appointments.c.id == appointment_id)
                           .with_for_update()).first()
        if row is None:
            raise NotFound(f"no appointment {appointment_id}")
        return row

    @rpc(expected_exceptions=EXPECTED)
    def reschedule(self, caller: dict, appointment_id: str, change: dict) -> dict[str, Any]:
        """Move one appointment, or (``scope: following``) it and every later
        occurrence of its series by the same wall-clock shift."""
        data = load(RescheduleSchema(), change)
        aid = parse_id(appointment_id, "appointment_id")
        with self.uow() as uow:
            conn = uow.session.connection()
            row = self._load(conn, aid)
            who = self._may_book(caller, row.site_id, row.clinician_id, "reschedule")
            if row.status != "booked":
                raise invalid("appointment_id", f"is {row.status}")
            site = store.site(conn, row.site_id)
            tz = zone(site.time_zone)
            old_local = row.starts_at.astimezone(tz).replace(tzinfo=None)
            shift = data["starts_at"].astimezone(tz).replace(tzinfo=None) - old_local
            targets = self._targets(conn, row, data["scope"])
            moved = []
            problems: dict[str, list[str]] = {}
            for target in targets:  # free their slots first, so a series can slide over itself
                conn.execute(update(m.appointment_parties).where(m.appointment_parties.c.appointment_id == target.id)
                             .values(active=False))
            for target in targets:
                local = target.starts_at.astimezone(tz).replace(tzinfo=None) + shift
                starts = local_instant(local, tz)
                if starts is None:
                    problems.setdefault("starts_at", []).append(f"{local:%Y-%m-%d %H:%M} does not exist in {tz.key}")
                    continue
                ends = starts + timedelta(minutes=target.planned_minutes)
                details = store.appointment(conn, target.id)
                details["room_id"] = data["room_id"] or target.room_id
                try:
                    self._prepare(conn, details)  # the room: of this site, big enough, equipped
                    self._check_bookable(conn, site, details, starts, ends)
                    self._move(conn, target, starts, ends, details["room_id"], detached=data["scope"] == "this")
                except FieldError as exc:  # each occurrence's refusals, gathered
                    for field, messages in exc.errors.items():
                        problems.setdefault(field, []).extend(f"{local:%Y-%m-%d}: {msg}" for msg in messages)
                    continue
                moved.append(target.id)
            if problems:
                raise BookingConflict(problems)
            for target_id in moved:
                uow.emit(events.APPOINTMENT_RESCHEDULED, store.event_payload(conn, target_id), actor=who.actor,
                         site_id=site.id)
            return {"moved": [store.appointment(conn, t) for t in moved]}

    def _move(self, conn, row, starts, ends, room_id, detached: bool) -> None:
        try:
            with conn.begin_nested():
                conn.execute(update(m.appointments).where(m.appointments.c.id == row.id).values(
                    starts_at=starts, ends_at=ends, room_id=room_id, updated_at=store.now(),
                    detached=row.detached or detached))
                parties = m.appointment_parties
                # the room may change (or be added to a telehealth session): its row goes with it
                conn.execute(delete(parties).where(parties.c.appointment_id == row.id, parties.c.party_kind == "room"))
                if room_id:
                    conn.execute(insert(parties).values(appointment_id=row.id, party_kind="room",
                                                        party_id=str(room_id), during=Range(starts, ends)))
                conn.execute(update(parties).where(parties.c.appointment_id == row.id).values(
                    during=Range(starts, ends), active=True))
        except IntegrityError as exc:
            raise self._conflict(exc, store.site(conn, row.site_id)) from None

    @rpc(expected_exceptions=EXPECTED)
    def cancel(self, caller: dict, appointment_id: str, cancellation: dict) -> dict[str, Any]:
        """Cancel by the client or the clinic; late when inside the site's notice
        period. The freed slot is offered to the waitlist, in order."""
        data = load(CancelSchema(), cancellation)
        aid = parse_id(appointment_id, "appointment_id")
        with self.uow() as uow:
            conn = uow.session.connection()
            row = self._load(conn, aid)
            who = self._may_book(caller, row.site_id, row.clinician_id, "cancel")
            if row.status != "booked":
                raise invalid("appointment_id", f"is {row.status}")
            site = store.site(conn, row.site_id)
            now = store.now()
            cancelled = []
            for target in self._targets(conn, row, data["scope"]):
                late = target.starts_at - now < timedelta(hours=site.late_cancel_hours)
                self._set_status(conn, target.id, "cancelled", cancelled_by=data["by"], late=late,
                                 status_reason=data["reason"])
                payload = store.event_payload(conn, target.id)
                uow.emit(events.APPOINTMENT_CANCELLED, payload, actor=who.actor, site_id=site.id)
                self._offer_freed(uow, who, target)
                cancelled.append(payload)
            return {"cancelled": cancelled}

    def _set_status(self, conn, aid, status: str, **values) -> None:
        conn.execute(update(m.appointments).where(m.appointments.c.id == aid).values(
            status=status, updated_at=store.now(), **values))
        if status not in ACTIVE:
            conn.execute(update(m.appointment_parties).where(m.appointment_parties.c.appointment_id == aid)
                         .values(active=False))

    def _transition(self, caller: dict, appointment_id: str, allowed_from: tuple[str, ...], status: str,
                    event_type: str, **values) -> dict[str, Any]:
        aid = parse_id(appointment_id, "appointment_id")
        with self.uow() as uow:
            conn = uow.session.connection()
            row = self._load(conn, aid)
            who = self._may_book(caller, row.site_id, row.clinician_id, status)
            if row.status not in allowed_from:
                raise invalid("appointment_id", f"is {row.status}; cannot become {status}")
            self._set_status(conn, aid, status, **values)
            uow.emit(event_type, store.event_payload(conn, aid), actor=who.actor, site_id=row.site_id)
            return store.appointment(conn, aid)

    @rpc(expected_exceptions=EXPECTED)
    def check_in(self, caller: dict, appointment_id: str) -> dict[str, Any]:
        return self._transition(caller, appointment_id, ("booked",), "checked_in", events.APPOINTMENT_CHECKED_IN)

    @rpc(expected_exceptions=EXPECTED)
    def complete(self, caller: dict, appointment_id: str, completion: dict | None = None) -> dict[str, Any]:
        """Completed, with the face-to-face minutes (default: as planned) billing
        codes from, whether the client was present (family sessions) and whether
        interactive complexity applied."""
        data = load(CompleteSchema(), completion or {})
        minutes = data["minutes"]
        if minutes is None:
            with self.uow() as uow:
                row = self._load(uow.session.connection(), parse_id(appointment_id, "appointment_id"))
                minutes = row.planned_minutes
        return self._transition(caller, appointment_id, ("booked", "checked_in"), "completed",
                                events.APPOINTMENT_COMPLETED, minutes=minutes,
                                patient_present=data["patient_present"],
                                interactive_complexity=data["interactive_complexity"])

    @rpc(expected_exceptions=EXPECTED)
    def no_show(self, caller: dict, appointment_id: str) -> dict[str, Any]:
        return self._transition(caller, appointment_id, ("booked",), "no_show", events.APPOINTMENT_NO_SHOW)

    # --- reads (they name clients: access-recorded) -------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def get_appointment(self, caller: dict, appointment_id: str) -> dict[str, Any]:
        aid = parse_id(appointment_id, "appointment_id")
        who = load(CallerSchema(), caller)
        with self.uow() as uow:
            conn = uow.session.connection()
            row = conn.execute(select(m.appointments).where(m.appointments.c.id == aid)).first()
            if row is None:
                raise NotFound(f"no appointment {appointment_id}")
            result = store.appointment(conn, aid)
            refusal = self._read_refusal(who, row.site_id, result)
            if refusal is None:
                self._record_reads(uow, who, [result])
        if refusal:
            deny(self.uow, who, action=Action.READ, resource_type="Appointment", resource_id=str(aid),
                 client_id=result["client_ids"][0], site_id=row.site_id, reason=refusal)
        return result

    @staticmethod
    def _read_refusal(who: Caller, site_id: str, appointment: dict) -> str | None:
        if who.role in ("front_desk", "admin", "biller"):
            return None if site_id in who.sites else f"site {site_id} is outside the caller's sites"
        if who.role in ("clinician", "supervisor"):
            mine = who.user_id in (appointment["clinician_id"], appointment["co_therapist_id"])
            return None if mine else "not the clinician of this appointment"
        return f"role {who.role} may not read appointments"

    @staticmethod
    def _record_reads(uow, who: Caller, appointments: list[dict]) -> None:
        for appointment in appointments:
            for client in appointment["client_ids"]:
                record_access(uow, who, action=Action.READ, resource_type="Appointment",
                              resource_id=appointment["id"], client_id=client, site_id=appointment["site_id"])

    @rpc(expected_exceptions=EXPECTED)
    def list_appointments(self, caller: dict, query: dict) -> list[dict[str, Any]]:
        """Appointments of a site, clinician or client in a time range. Staff of the
        site see all; a clinician their own. Each appointment read is recorded per client."""
        q = load(ListSchema(), query)
        who = load(CallerSchema(), caller)
        if who.role in ("clinician", "supervisor") and q["clinician_id"] != who.user_id:
            deny(self.uow, who, action=Action.READ, resource_type="Appointment", resource_id="list",
                 client_id=q["client_id"], reason="clinicians list their own appointments")
        if who.role not in ("clinician", "supervisor", "front_desk", "admin", "biller"):
            deny(self.uow, who, action=Action.READ, resource_type="Appointment", resource_id="list",
                 client_id=q["client_id"], reason=f"role {who.role} may not read appointments")
        with self.uow() as uow:
            conn = uow.session.connection()
            found = store.find_appointments(conn, q)
            if who.role in ("front_desk", "admin", "biller"):
                found = [a for a in found if a["site_id"] in who.sites]
            self._record_reads(uow, who, found)
        return found

    # --- slots ---------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def find_slots(self, caller: dict, query: dict) -> list[dict[str, Any]]:
        """Free slots for a clinician at a site: availability (site-local wall-clock
        times, so correct across daylight saving), minus leave, holidays and
        bookings; in person only where a room with the capacity is free; only on
        days the clinician may practise for the client's jurisdiction."""
        q = load(SlotQuerySchema(), query)
        load(CallerSchema(), caller)
        with self.uow() as uow:
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
                candidates = conn.execute(select(m.rooms).where(m.rooms.c.site_id == site.id,
                                                                m.rooms.c.capacity >= q["clients"])
                                          .order_by(m.rooms.c.capacity, m.rooms.c.name)).all()
                taken = store.busy_by_party(conn, "room", [str(r.id) for r in candidates], span_start, span_end)
                rooms = [(r, merge(taken.get(str(r.id), []))) for r in candidates]
                if not rooms:
                    return []
            allowed_days: dict[date, bool] = {}
            facts = self._licensure_facts(conn, q["clinician_id"])
            slots = []
            for start, end in grid_slots(windows, busy, q["minutes"], q["step"], store.now()):
                day = start.astimezone(tz).date()
                if day not in allowed_days:
                    allowed_days[day] = self._licensure(conn, q["clinician_id"], q["service_kind"], jurisdiction,
                                                        q["modality"], day, facts).allowed
                if not allowed_days[day]:
                    continue
                room = None
                if rooms:
                    room = next((r for r, taken_times in rooms if is_free(taken_times, start, end)), None)
                    if room is None:
                        continue
                slots.append({"starts_at": start.isoformat(), "ends_at": end.isoformat(),
                              "local_start": start.astimezone(tz).isoformat(),
                              "room_id": str(room.id) if room else None})
        return slots

    # --- waitlist -----------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def waitlist_add(self, caller: dict, entry: dict) -> dict[str, Any]:
        data = load(WaitlistSchema(), entry)
        who = self._may_book(caller, data["site_id"], data["clinician_id"], "keep the waitlist")
        wid = store.new_id()
        with self.uow() as uow:
            store.site(uow.session.connection(), data["site_id"])
            uow.session.execute(insert(m.waitlist).values(id=wid, status="waiting", **data))
            record_access(uow, who, action=Action.CREATE, resource_type="Waitlist", resource_id=str(wid),
                          client_id=data["client_id"], site_id=data["site_id"])
        return {"id": str(wid), "status": "waiting", **data}

    def _offer_freed(self, uow, who: Caller, freed, skip=()) -> None:
        conn = uow.session.connection()
        w = m.waitlist
        entry = conn.execute(select(w).where(
            w.c.site_id == freed.site_id, w.c.service_kind == freed.service_kind, w.c.status == "waiting",
            or_(w.c.clinician_id.is_(None), w.c.clinician_id == freed.clinician_id),
            w.c.id.notin_(list(skip)) if skip else True,
        ).order_by(w.c.created_at).limit(1).with_for_update(skip_locked=True)).first()
        if entry is None or freed.starts_at <= store.now():
            return
        offer = {"appointment_id": str(freed.id), "clinician_id": freed.clinician_id,
                 "room_id": str(freed.room_id) if freed.room_id else None, "kind": freed.kind,
                 "modality": freed.modality, "client_jurisdiction": freed.client_jurisdiction,
                 "starts_at": freed.starts_at.isoformat(), "planned_minutes": freed.planned_minutes,
                 "ends_at": freed.ends_at.isoformat()}
        conn.execute(update(w).where(w.c.id == entry.id).values(status="offered", offer=offer))
        uow.emit(events.WAITLIST_OFFERED, {"entry_id": str(entry.id), "client_id": entry.client_id,
                                           "site_id": entry.site_id, "clinician_id": freed.clinician_id,
                                           "starts_at": offer["starts_at"], "ends_at": offer["ends_at"]},
                 actor=who.actor, site_id=entry.site_id)

    @rpc(expected_exceptions=EXPECTED)
    def answer_offer(self, caller: dict, entry_id: str, accept: bool) -> dict[str, Any]:
        """The client takes the offered slot (booked for them), or declines it
        (back to waiting; the slot goes to the next in line)."""
        wid = parse_id(entry_id, "entry_id")
        with self.uow() as uow:
            conn = uow.session.connection()
            entry = conn.execute(select(m.waitlist).where(m.waitlist.c.id == wid).with_for_update()).first()
            if entry is None:
                raise NotFound(f"no waitlist entry {entry_id}")
            who = self._may_book(caller, entry.site_id, None, "answer offers")
            if entry.status != "offered":
                raise invalid("entry_id", f"has no open offer ({entry.status})")
            offer = entry.offer
            if not accept:
                conn.execute(update(m.waitlist).where(m.waitlist.c.id == wid).values(status="waiting", offer=None))
                freed = conn.execute(select(m.appointments).where(
                    m.appointments.c.id == parse_id(offer["appointment_id"], "appointment_id"))).first()
                self._offer_freed(uow, who, freed, skip=(wid,))
                return {"id": str(wid), "status": "waiting"}
            room = parse_id(offer["room_id"], "room_id") if offer["room_id"] else None
            data = {"site_id": entry.site_id, "room_id": room,
                    "clinician_id": offer["clinician_id"], "co_therapist_id": None, "client_ids": [entry.client_id],
                    "kind": offer["kind"] if offer["kind"] in ("intake", "individual", "child") else "individual",
                    "service_kind": entry.service_kind, "modality": offer["modality"],
                    "client_jurisdiction": offer["client_jurisdiction"], "planned_minutes": offer["planned_minutes"]}
            site = self._prepare(conn, data)
            starts = datetime.fromisoformat(offer["starts_at"])
            ends = starts + timedelta(minutes=data["planned_minutes"])
            self._check_bookable(conn, site, data, starts, ends)
            aid = self._insert(uow, who, site, data, starts, ends)
            conn.execute(update(m.waitlist).where(m.waitlist.c.id == wid).values(status="booked"))
            return {"id": str(wid), "status": "booked", "appointment": store.appointment(conn, aid)}

    # --- the licensure projection ---------------------------------------------------------------
    @handles(*cred.LICENSE_EVENTS)
    def on_license(self, event) -> None:
        """Keep the projection; when a licence stops being in force, flag every
        future appointment it no longer covers."""
        p = event.payload
        values = {"clinician_id": p["clinician_id"], "type": p["credential_type"], "jurisdiction": p["jurisdiction"],
                  "number": p["number"], "status": p["status"], "issued_on": date.fromisoformat(p["issued_on"]),
                  "expires_on": date.fromisoformat(p["expires_on"]), "as_of": event.occurred_at}
        with self.uow(handling=event) as uow:
            statement = pg_insert(m.licenses).values(id=p["license_id"], **values)
            uow.session.execute(statement.on_conflict_do_update(
                index_elements=["id"], set_=values, where=m.licenses.c.as_of <= statement.excluded.as_of))
            if p["status"] in ("suspended", "expired", "revoked"):
                self._reassess(uow, p["clinician_id"], event)

    @handles(*SUPERVISION_EVENTS)
    def on_supervision(self, event) -> None:
        """Supervisions license associates' sessions; an ended one may leave
        booked sessions unlicensed."""
        with self.uow(handling=event) as uow:
            apply_supervision(uow.session.connection(), m.supervisions, event.payload)
            if event.type == cred.SUPERVISION_ENDED:
                self._reassess(uow, event.payload["supervisee_id"], event)

    def _reassess(self, uow, clinician_id: str, event) -> None:
        conn = uow.session.connection()
        a = m.appointments
        rows = conn.execute(select(a).where(
            or_(a.c.clinician_id == clinician_id, a.c.co_therapist_id == clinician_id), a.c.status == "booked",
            a.c.starts_at > store.now(), a.c.needs_reassignment.is_(False)).with_for_update()).all()
        system = CallerSchema().load({"user_id": "scheduling.licensure", "role": "system", "purpose": "operations"})
        for row in rows:
            day = row.starts_at.astimezone(zone(store.site(conn, row.site_id).time_zone)).date()
            answer = self._licensure(conn, clinician_id, row.service_kind, row.client_jurisdiction, row.modality, day)
            if answer.allowed:
                continue
            conn.execute(update(a).where(a.c.id == row.id).values(needs_reassignment=True,
                                                                  reassignment_reasons=answer.reasons))
            uow.emit(events.APPOINTMENT_NEEDS_REASSIGNMENT, {
                "appointment_id": str(row.id), "clinician_id": clinician_id, "site_id": row.site_id,
                "starts_at": row.starts_at.isoformat(), "reasons": answer.reasons,
            }, actor=system.actor, site_id=row.site_id)
        log.info("reassessed %d future appointments of %s after %s", len(rows), clinician_id, event.type)

    @rpc
    def health(self) -> dict[str, Any]:
        with self.uow() as uow:
            count = uow.session.connection().execute(select(func.count()).select_from(m.licenses)).scalar()
        return {"status": "ok", "licenses_known": count}

