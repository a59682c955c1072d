"""The scheduling service's client portal (``self_service``): a client's own
appointments, cancelling one, asking for a time, answering a waitlist offer --
for the record their login is linked to, never another's.
:class:`~confide_scheduling.service.SchedulingService` is made of this and its
own entrypoints."""

from __future__ import annotations

from typing import Any

from confide_access import Action, Caller, enforce, load, parse_id, rpc
from confide_contracts.errors import EXPECTED, invalid
from confide_contracts.rpc.scheduling import MyAppointmentsSchema, PortalRequestSchema, RemovalSchema

from confide_scheduling import self_service, waitlist
from confide_scheduling.domain import policy


class ClientPortal:
    """Entrypoints of :class:`~confide_scheduling.service.SchedulingService` (its ``uow``)."""

    def _own_record(self, caller: Caller, what: str) -> str:
        with self.uow() as uow:
            record = self_service.record_of(uow, caller)
        enforce(self.uow, caller, policy.may_use_portal(caller, record), action=Action.READ,
                resource_type="Appointment", resource_id=what)
        return record

    @rpc(expected_exceptions=EXPECTED)
    def my_appointments(self, caller: Caller, query: dict) -> dict[str, Any]:
        """My appointments to come (or past), in the site's local time."""
        q = load(MyAppointmentsSchema(), query)
        record = self._own_record(caller, "my appointments")
        with self.uow() as uow:
            return self_service.appointments(uow, caller, record, q)

    @rpc(expected_exceptions=EXPECTED)
    def cancel_my_appointment(self, caller: Caller, appointment_id: str, reason: str) -> dict[str, Any]:
        """Cancel a session of mine; inside the site's notice it is late (the site's fee applies)."""
        data = load(RemovalSchema(), {"reason": reason})
        aid = parse_id(appointment_id, "appointment_id")
        record = self._own_record(caller, "cancel my appointment")
        with self.uow() as uow:
            return self_service.cancel(uow, caller, record, aid, data["reason"], on_freed=waitlist.offer_freed)

    @rpc(expected_exceptions=EXPECTED)
    def request_appointment(self, caller: Caller, request: dict) -> dict[str, Any]:
        """A time from a clinician's free slots (``find_slots``): licensure, availability and rooms checked."""
        data = load(PortalRequestSchema(), request)
        record = self._own_record(caller, "ask for a time")
        with self.uow() as uow:
            return self_service.request(uow, caller, record, data)

    @rpc(expected_exceptions=EXPECTED)
    def my_offers(self, caller: Caller) -> list[dict[str, Any]]:
        """Waitlist offers open to me, and until when."""
        record = self._own_record(caller, "my waitlist offers")
        with self.uow() as uow:
            return self_service.offers(uow, caller, record)

    @rpc(expected_exceptions=EXPECTED)
    def answer_my_offer(self, caller: Caller, entry_id: str, accept: bool) -> dict[str, Any]:
        """Take the offered time (booked for me) or let it go to the next in line."""
        if not isinstance(accept, bool):
            raise invalid("accept", "true to take the offered time, false to let it go")
        wid = parse_id(entry_id, "entry_id")
        record = self._own_record(caller, "answer my offer")
        with self.uow() as uow:
            return self_service.answer(uow, caller, record, wid, accept)
