"""Registering clinicians and reading them back (use cases over a unit of work)."""

from __future__ import annotations

from typing import Any

from confide_access import Action, Caller, record_access
from confide_contracts import credentialing as events
from confide_contracts.errors import NotFound, conflict
from confide_messaging import UnitOfWork

from confide_credentialing import store


def register(uow: UnitOfWork, who: Caller, data: dict[str, Any]) -> None:
    conn = uow.session.connection()
    try:
        store.add_clinician(conn, who.user_id, data)
    except store.AlreadyRegistered as taken:
        raise conflict(taken.field, "is already registered") from None
    record_access(uow, who, action=Action.CREATE, resource_type="Practitioner", resource_id=data["id"])
    uow.emit(events.CLINICIAN_REGISTERED, {
        "clinician_id": data["id"], "given_name": data["given_name"], "family_name": data["family_name"],
        "national_id": data["national_id"], "home_site_id": data["home_site_id"]}, actor=who.actor)


def get(uow: UnitOfWork, clinician_id: str) -> dict[str, Any]:
    found = store.clinician(uow.session.connection(), clinician_id)
    if found is None:
        raise NotFound(f"no clinician {clinician_id}")
    return found
