"""The scheduling service's work queues: the waitlist (offers that lapse and
pass on) and the reassignment queue (sessions a clinician may no longer
practise). :class:`~confide_scheduling.service.SchedulingService` is made of
this and its own entrypoints; the work is ``waitlist`` and ``reassignment``."""

from __future__ import annotations

from typing import Any

from confide_access import Action, Caller, enforce, load, parse_id, rpc
from confide_contracts.errors import EXPECTED
from confide_contracts.rpc.scheduling import (
    FlaggedListSchema,
    ReassignSchema,
    RemovalSchema,
    WaitlistListSchema,
    WaitlistSchema,
)
from nameko.timer import timer

from confide_scheduling import listing, reassignment, waitlist
from confide_scheduling.domain import policy

OFFER_SWEEP_SECONDS = 30  # a lapsed waitlist offer passes on within this


class WorkQueues:
    """Entrypoints of :class:`~confide_scheduling.service.SchedulingService` (its ``uow``, ``_admin``,
    ``_booker``, ``_may_book`` and ``_may_list``)."""

    # --- the reassignment queue -----------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def reassignment_queue(self, caller: Caller, query: dict) -> dict[str, Any]:
        """Sessions to come their clinician may no longer practise, with the reasons (the desk: its sites')."""
        q = load(FlaggedListSchema(), query)
        enforce(self.uow, caller, policy.may_list_appointments(caller, q["clinician_id"] or caller.user_id),
                action=Action.READ, resource_type="Appointment", resource_id="reassignment queue")
        with self.uow() as uow:
            return reassignment.queue(uow, caller, q)

    @rpc(expected_exceptions=EXPECTED)
    def reassign(self, caller: Caller, appointment_id: str, change: dict) -> dict[str, Any]:
        """Another clinician for a session (or it and the rest of its series): licensed, available, free."""
        data = load(ReassignSchema(), change)
        aid = parse_id(appointment_id, "appointment_id")
        with self.uow() as uow:
            return reassignment.reassign(uow, self._booker(caller, "reassign"), aid, data)

    # --- waitlist -----------------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def waitlist_add(self, caller: Caller, entry: dict) -> dict[str, Any]:
        data = load(WaitlistSchema(), entry)
        who = self._may_book(caller, data["site_id"], data["clinician_id"], "keep the waitlist")
        with self.uow() as uow:
            wid = waitlist.add(uow, who, data)
        return {"id": str(wid), "status": "waiting", **data}

    @rpc(expected_exceptions=EXPECTED)
    def list_waitlist(self, caller: Caller, query: dict) -> dict[str, Any]:
        """Waiting and offered entries (or ``status``), oldest first; each entry read is recorded."""
        q = load(WaitlistListSchema(), query)
        self._may_list(caller, q["clinician_id"], "waitlist")
        with self.uow() as uow:
            return listing.waitlist(uow, caller, q)

    @rpc(expected_exceptions=EXPECTED)
    def remove_from_waitlist(self, caller: Caller, entry_id: str, reason: str) -> dict[str, Any]:
        data = load(RemovalSchema(), {"reason": reason})
        wid = parse_id(entry_id, "entry_id")
        with self.uow() as uow:
            return waitlist.remove(uow, self._booker(caller, "keep the waitlist"), wid, data["reason"])

    @rpc(expected_exceptions=EXPECTED)
    def answer_offer(self, caller: Caller, entry_id: str, accept: bool) -> dict[str, Any]:
        """The client takes the offered slot (booked for them), or declines it
        (back to waiting; the slot goes to the next in line)."""
        wid = parse_id(entry_id, "entry_id")
        with self.uow() as uow:
            return waitlist.answer(uow, self._booker(caller, "answer offers"), wid, accept)

    @timer(interval=OFFER_SWEEP_SECONDS, eager=True)
    def offer_timer(self) -> None:
        """Every replica runs it; each lapsed offer passes on once (``waitlist.expire_due``)."""
        self._expire_offers()

    @rpc(expected_exceptions=EXPECTED)
    def expire_offers(self, caller: Caller) -> int:
        """Pass on lapsed waitlist offers now (operators); how many passed on."""
        self._admin(caller, None, "pass on lapsed offers")
        return self._expire_offers()

    def _expire_offers(self) -> int:
        with self.uow() as uow:
            return waitlist.expire_due(uow, waitlist.SWEEPER)
