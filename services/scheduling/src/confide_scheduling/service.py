"""The scheduling service's entrypoints: a table of contents.

Each entrypoint parses, asks the policy (``domain/policy.py``) and calls a use
case: ``sites`` (sites, rooms, availability, leave), ``booking`` (book, move,
cancel, check in, complete, no-show), ``series``, ``waitlist``, ``slots``,
``appointments`` (reads, access-recorded) and ``licensure`` (the projection of
credentialing and what it does to booked sessions); lists are ``listing``.
Three classes of entrypoints this one is made of hold the rest:
``administration`` (sites, rooms, availability and leave), ``queues`` (the
waitlist and the reassignment queue) and ``portal`` (what a client does for
themself). The appointment's lifecycle is ``domain/appointment.py``;
the SQL is ``store``.
"""

from __future__ import annotations

from typing import Any

import confide_contracts  # noqa: F401 - registers the event schemas used here
from confide_access import Action, Caller, enforce, load, open_rpc, parse_id, rpc
from confide_contracts import credentialing as cred
from confide_contracts import records as rec
from confide_contracts.errors import EXPECTED
from confide_contracts.projections import LOGIN_EVENTS, SUPERVISION_EVENTS, apply_login_link, apply_supervision
from confide_contracts.rpc.scheduling import (
    AppointmentSchema,
    AvailabilitySchema,
    CancelSchema,
    CompleteSchema,
    DaySheetSchema,
    ExceptionSchema,
    ListSchema,
    RescheduleSchema,
    RoomSchema,
    SeriesEndSchema,
    SeriesExtensionSchema,
    SeriesSchema,
    SiteSchema,
    SlotQuerySchema,
)
from confide_messaging import OutboxRelayRunner, UnitOfWorkProvider, handles

from confide_scheduling import appointments, booking, daysheet, licensure, series, sites, slots, store, waitlist
from confide_scheduling import models as m
from confide_scheduling.administration import SiteAdministration
from confide_scheduling.domain import policy
from confide_scheduling.domain.appointment import AppointmentStatus
from confide_scheduling.portal import ClientPortal
from confide_scheduling.queues import WorkQueues


class SchedulingService(SiteAdministration, WorkQueues, ClientPortal):
    name = "scheduling"

    uow = UnitOfWorkProvider()
    relay = OutboxRelayRunner()

    # --- authorization -----------------------------------------------------------
    def _may_book(self, caller: Caller | Caller, site_id: str, clinician_id: str | None, what: str) -> Caller:
        who = caller
        return enforce(self.uow, who, policy.may_book(who, site_id, clinician_id, what), action=Action.UPDATE,
                       resource_type="Appointment", resource_id=what)

    def _booker(self, caller: Caller, what: str) -> booking.Authorize:
        """The check a use case makes once it knows the site and clinician."""
        who = caller
        return lambda site_id, clinician_id: self._may_book(who, site_id, clinician_id, what)

    def _admin(self, caller: Caller, site_id: str | None, what: str) -> Caller:
        who = caller
        return enforce(self.uow, who, policy.may_administer(who, site_id, what), action=Action.UPDATE,
                       resource_type="Location", resource_id=site_id or what)

    # --- sites, rooms, availability ------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def create_site(self, caller: Caller, site: dict) -> dict[str, Any]:
        data = load(SiteSchema(), site)
        self._admin(caller, data["id"], "create sites")
        with self.uow() as uow:
            sites.create_site(uow, data)
        return SiteSchema().dump(data)

    @rpc(expected_exceptions=EXPECTED)
    def add_room(self, caller: Caller, site_id: str, room: dict) -> dict[str, Any]:
        data = load(RoomSchema(), room)
        self._admin(caller, site_id, "add rooms")
        with self.uow() as uow:
            rid = sites.add_room(uow, site_id, data)
        return {"id": str(rid), "site_id": site_id, **data}

    @rpc(expected_exceptions=EXPECTED)
    def add_availability(self, caller: Caller, template: dict) -> dict[str, Any]:
        """A weekly window (site-local wall-clock times) when a clinician sees clients at a site."""
        data = load(AvailabilitySchema(), template)
        self._may_book(caller, data["site_id"], data["clinician_id"], "set availability")
        with self.uow() as uow:
            aid = sites.add_availability(uow, data)
        return {"id": str(aid), **AvailabilitySchema().dump(data)}

    @rpc(expected_exceptions=EXPECTED)
    def add_exception(self, caller: Caller, exception: dict) -> dict[str, Any]:
        """Leave (a clinician), a holiday (a site), or both."""
        data = load(ExceptionSchema(), exception)
        who = caller
        decision = policy.may_record_leave(who, data["clinician_id"], data["site_id"])
        if data["clinician_id"] is None:  # a holiday: the site's
            enforce(self.uow, who, decision, action=Action.UPDATE, resource_type="Location",
                    resource_id=data["site_id"] or "close a site")
        else:
            enforce(self.uow, who, decision, action=Action.UPDATE, resource_type="Schedule",
                    resource_id=data["clinician_id"])
        with self.uow() as uow:
            eid = sites.add_exception(uow, data)
        return {"id": str(eid)}

    # --- booking -------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def book(self, caller: Caller, appointment: dict) -> dict[str, Any]:
        """Book one appointment. Refused with ``BookingConflict`` (what collides),
        ``NotLicensed`` (every reason) or ``InvalidRequest``."""
        data = load(AppointmentSchema(), appointment)
        who = self._may_book(caller, data["site_id"], data["clinician_id"], "book")
        with self.uow() as uow:
            return booking.book(uow, who, data)

    @rpc(expected_exceptions=EXPECTED)
    def book_series(self, caller: Caller, request: dict) -> dict[str, Any]:
        """A recurring series from an RRULE over the site's wall-clock time, e.g.
        ``FREQ=WEEKLY;INTERVAL=2;COUNT=10``. All occurrences or none: every
        conflict is named."""
        spec = load(SeriesSchema(), request)
        who = self._may_book(caller, spec["appointment"]["site_id"], spec["appointment"]["clinician_id"], "book")
        with self.uow() as uow:
            return series.book_series(uow, who, spec)

    @rpc(expected_exceptions=EXPECTED)
    def extend_series(self, caller: Caller, series_id: str, extension: dict) -> dict[str, Any]:
        """More occurrences, as the latest stands now (clinician, room, time of day), all or none."""
        data = load(SeriesExtensionSchema(), extension)
        sid = parse_id(series_id, "series_id")
        with self.uow() as uow:
            return series.extend(uow, self._booker(caller, "book"), sid, data)

    @rpc(expected_exceptions=EXPECTED)
    def end_series(self, caller: Caller, series_id: str, ending: dict) -> dict[str, Any]:
        """No sessions after a date: those booked are cancelled by the clinic (offered to the waitlist)."""
        data = load(SeriesEndSchema(), ending)
        sid = parse_id(series_id, "series_id")
        with self.uow() as uow:
            return series.end(uow, self._booker(caller, "cancel"), sid, data, on_freed=waitlist.offer_freed)

    @rpc(expected_exceptions=EXPECTED)
    def reschedule(self, caller: Caller, appointment_id: str, change: dict) -> dict[str, Any]:
        """Move one appointment, or (``scope: following``) it and every later
        occurrence of its series by the same wall-clock shift."""
        data = load(RescheduleSchema(), change)
        aid = parse_id(appointment_id, "appointment_id")
        with self.uow() as uow:
            return booking.reschedule(uow, self._booker(caller, "reschedule"), aid, data)

    @rpc(expected_exceptions=EXPECTED)
    def cancel(self, caller: Caller, appointment_id: str, cancellation: dict) -> dict[str, Any]:
        """Cancel by the client or the clinic; late when inside the site's notice
        period. The freed slot is offered to the waitlist, in order."""
        data = load(CancelSchema(), cancellation)
        aid = parse_id(appointment_id, "appointment_id")
        with self.uow() as uow:
            return booking.cancel(uow, self._booker(caller, "cancel"), aid, data, on_freed=waitlist.offer_freed)

    def _advance(self, caller: Caller, appointment_id: str, status: AppointmentStatus, **values) -> dict[str, Any]:
        aid = parse_id(appointment_id, "appointment_id")
        with self.uow() as uow:
            return booking.advance(uow, self._booker(caller, status.value), aid, status, **values)

    @rpc(expected_exceptions=EXPECTED)
    def check_in(self, caller: Caller, appointment_id: str) -> dict[str, Any]:
        return self._advance(caller, appointment_id, AppointmentStatus.CHECKED_IN)

    @rpc(expected_exceptions=EXPECTED)
    def complete(self, caller: Caller, appointment_id: str, completion: dict | None = None) -> dict[str, Any]:
        """Completed, with the face-to-face minutes (default: as planned) billing
        codes from, whether the client was present (family sessions) and whether
        interactive complexity applied."""
        data = load(CompleteSchema(), completion or {})
        return self._advance(caller, appointment_id, AppointmentStatus.COMPLETED, minutes=data["minutes"],
                             patient_present=data["patient_present"],
                             interactive_complexity=data["interactive_complexity"])

    @rpc(expected_exceptions=EXPECTED)
    def no_show(self, caller: Caller, appointment_id: str) -> dict[str, Any]:
        return self._advance(caller, appointment_id, AppointmentStatus.NO_SHOW)

    # --- reads (they name clients: access-recorded) -------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def get_appointment(self, caller: Caller, appointment_id: str) -> dict[str, Any]:
        aid = parse_id(appointment_id, "appointment_id")
        who = caller
        with self.uow() as uow:
            found, decision = appointments.get(uow, who, aid)
        enforce(self.uow, who, decision, action=Action.READ, resource_type="Appointment", resource_id=str(aid),
                client_id=found["client_ids"][0], site_id=found["site_id"])
        return found

    @rpc(expected_exceptions=EXPECTED)
    def list_appointments(self, caller: Caller, query: dict) -> list[dict[str, Any]]:
        """Appointments of a site, clinician or client in a time range. Staff of the
        site see all; a clinician their own. Each appointment read is recorded per client."""
        q = load(ListSchema(), query)
        who = caller
        enforce(self.uow, who, policy.may_list_appointments(who, q["clinician_id"]), action=Action.READ,
                resource_type="Appointment", resource_id="list", client_id=q["client_id"])
        with self.uow() as uow:
            return appointments.find(uow, who, q)

    @rpc(expected_exceptions=EXPECTED)
    def day_sheet(self, caller: Caller, query: dict) -> dict[str, Any]:
        """A site's or clinician's day (or week) in local time with the clients' names; a supervisor may
        ask for a supervisee's. One access recorded for each client on it."""
        q = load(DaySheetSchema(), query)
        with self.uow() as uow:
            decision = daysheet.decide(uow, caller, q)
        enforce(self.uow, caller, decision, action=Action.READ, resource_type="Appointment", resource_id="day-sheet")
        with self.uow() as uow:
            return daysheet.build(uow, caller, q)

    # --- slots ---------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def find_slots(self, caller: Caller, query: dict) -> list[dict[str, Any]]:
        """Free slots for a clinician at a site (see ``slots``): only on days the
        clinician may practise for the client's jurisdiction."""
        q = load(SlotQuerySchema(), query)
        with self.uow() as uow:
            return slots.find(uow, q)

    # --- the licensure projection ---------------------------------------------------------------
    @handles(*cred.LICENSE_EVENTS)
    def on_license(self, event) -> None:
        """Keep the projection; when a licence stops being in force, flag every
        future appointment it no longer covers."""
        with self.uow(handling=event) as uow:
            licensure.apply_license_event(uow, event)

    @handles(*SUPERVISION_EVENTS)
    def on_supervision(self, event) -> None:
        """Supervisions license associates' sessions; an ended one may leave
        booked sessions unlicensed."""
        with self.uow(handling=event) as uow:
            apply_supervision(uow.session.connection(), m.supervisions, event.payload)
            if event.type == cred.SUPERVISION_ENDED:
                licensure.reassess(uow, event.payload["supervisee_id"], event)

    @handles(*LOGIN_EVENTS)
    def on_login_linked(self, event) -> None:
        """Whose record a client's own login is (the portal's operations act on it alone)."""
        with self.uow(handling=event) as uow:
            apply_login_link(uow.session.connection(), m.linked_logins, event.payload)

    @handles(*rec.CLIENT_EVENTS)
    def on_client(self, event) -> None:
        """The names a day sheet shows (records is the authority)."""
        with self.uow(handling=event) as uow:
            store.set_client_name(uow.session.connection(), event.payload["client_id"],
                                  event.payload["display_name"], event.occurred_at)

    @open_rpc
    def health(self) -> dict[str, Any]:
        with self.uow() as uow:
            known = store.ping(uow.session.connection())
        return {"status": "ok", "licenses_known": known}

