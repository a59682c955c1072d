"""Reading appointments. They name clients, so each appointment read is an
access recorded per client, in the transaction that reads it."""

from __future__ import annotations

from typing import Any

from confide_access import Action, Caller, Decision, record_access
from confide_contracts.errors import NotFound
from confide_messaging import UnitOfWork

from confide_scheduling import store
from confide_scheduling.domain import policy


def get(uow: UnitOfWork, who: Caller, appointment_id) -> tuple[dict[str, Any], Decision]:
    """The appointment and the policy's decision; recorded only if allowed (the
    entrypoint records and raises a refusal)."""
    conn = uow.session.connection()
    row = store.appointment_row(conn, appointment_id)
    if row is None:
        raise NotFound(f"no appointment {appointment_id}")
    found = store.appointment(conn, appointment_id)
    decision = policy.may_read_appointment(who, row.site_id, (found["clinician_id"], found["co_therapist_id"]))
    if decision.allowed:
        record_reads(uow, who, [found])
    return found, decision


def find(uow: UnitOfWork, who: Caller, q: dict[str, Any]) -> list[dict[str, Any]]:
    found = [a for a in store.find_appointments(uow.session.connection(), q) if policy.sees_site(who, a["site_id"])]
    record_reads(uow, who, found)
    return found


def record_reads(uow: UnitOfWork, who: Caller, appointments: list[dict]) -> None:
    with uow.batched():
        for appointment in appointments:
            for client in appointment["client_ids"]:
                record_access(uow, who, action=Action.READ, resource_type="Appointment",
                              resource_id=appointment["id"], client_id=client, site_id=appointment["site_id"])
