"""A licence's life as officers record it: recorded pending, verified against a
primary source, renewed, suspended, reinstated, revoked; and expiry notices,
each once. Every change is an access-recorded action committed with its event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from confide_access import Action, Caller, CallerSchema, record_access
from confide_contracts import credentialing as events
from confide_contracts.errors import NotFound, conflict, missing
from confide_messaging import UnitOfWork
from confide_persistence import plain

from confide_credentialing import store
from confide_credentialing.domain import licence
from confide_credentialing.domain.expiry import notice_due
from confide_credentialing.domain.licence import LicenceStatus

EXPIRY_HORIZON = timedelta(days=90)  # the earliest notice


def record(uow: UnitOfWork, who: Caller, clinician_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """A licence as pending: it comes into force only with a verification."""
    conn = uow.session.connection()
    if not store.known_clinicians(conn, [clinician_id]):
        raise missing("clinician_id", f"no clinician {clinician_id}")
    license_id = store.new_id()
    if not store.add_license(conn, license_id, clinician_id, who.user_id, data):
        raise conflict("number", f"a {data['type']} licence {data['number']} in {data['jurisdiction']} "
                                "is already recorded")
    row = store.license_row(conn, license_id)
    _changed(uow, who, row, events.LICENSE_RECORDED, Action.CREATE)
    return plain(row)


# change(conn, who, row) -> (columns to change, extra event fields)
Change = Callable[[Any, Caller, Any], tuple[dict[str, Any], dict[str, Any]]]


def change(uow: UnitOfWork, who: Caller, license_id, event_type: str, how: Change) -> dict[str, Any]:
    conn = uow.session.connection()
    row = store.license_row(conn, license_id, lock=True)
    if row is None:
        raise NotFound(f"no licence {license_id}")
    values, extra = how(conn, who, row)
    store.change_license(conn, row.id, **values)
    row = store.license_row(conn, row.id)
    _changed(uow, who, row, event_type, **extra)
    return plain(row)


def verification(data: dict[str, Any]) -> Change:
    def how(conn, who: Caller, row):
        at = store.now()
        store.add_verification(conn, row.id, who.user_id, at, data)
        if data["result"] != "verified":
            return {"status_reason": f"verification: {data['result']}"}, {"reason": data["note"]}
        values = {"verified_at": at, "verified_by": who.user_id, "verification_source": data["source"],
                  "status_reason": None, **licence.verified(row.status, row.expires_on, date.today())}
        return values, {}
    return how


def renewal(data: dict[str, Any]) -> Change:
    def how(conn, who: Caller, row):
        values = licence.renewed(row.status, row.expires_on, data["expires_on"], data["verification"]["result"])
        at = store.now()
        store.add_verification(conn, row.id, who.user_id, at, data["verification"])
        return {**values, "verified_at": at, "verified_by": who.user_id,
                "verification_source": data["verification"]["source"]}, {}
    return how


def suspension(why: str) -> Change:
    return lambda conn, who, row: ({**licence.suspended(row.status), "status_reason": why}, {"reason": why})


def reinstatement(why: str) -> Change:
    def how(conn, who: Caller, row):
        values = licence.reinstated(row.status, row.verified_at is not None, row.expires_on, date.today())
        return {**values, "status_reason": why}, {"reason": why}
    return how


def revocation(why: str) -> Change:
    return lambda conn, who, row: ({**licence.revoked(row.status), "status_reason": why}, {"reason": why})


def _changed(uow: UnitOfWork, who: Caller, row, event_type: str, action: Action = Action.UPDATE, **extra) -> None:
    record_access(uow, who, action=action, resource_type="License", resource_id=str(row.id))
    uow.emit(event_type, store.license_event(row, **extra), actor=who.actor)


def expiring(uow: UnitOfWork, within_days: int, today: date) -> list[dict[str, Any]]:
    """Licences still tracked that expire within ``within_days``, soonest first."""
    rows = store.tracked_licenses(uow.session.connection(), licence.TRACKED, expiring_after=today,
                                  expiring_by=today + timedelta(days=within_days))
    return [{**plain(r), "days_left": (r.expires_on - today).days} for r in rows]


def send_expiry_notices(uow: UnitOfWork, service: str, today: date) -> int:
    """Publish each due notice once: the notice row and its event commit
    together, and the row's key refuses a second one (across replicas and
    restarts)."""
    system = CallerSchema().load({"user_id": f"{service}.expiry", "role": "system", "purpose": "operations"})
    conn = uow.session.connection()
    sent = 0
    for row in store.tracked_licenses(conn, licence.TRACKED, expiring_by=today + EXPIRY_HORIZON):
        notice = notice_due(row.expires_on, today)
        if notice is None or not store.claim_notice(conn, row.id, notice, row.expires_on):
            continue
        if notice == "expired":
            store.change_license(conn, row.id, status=LicenceStatus.EXPIRED.value,
                                 status_reason=f"expired on {row.expires_on.isoformat()}")
            row = store.license_row(conn, row.id)
            record_access(uow, system, action=Action.UPDATE, resource_type="License", resource_id=str(row.id))
            uow.emit(events.LICENSE_EXPIRED, store.license_event(row), actor=system.actor)
        else:
            uow.emit(events.LICENSE_EXPIRING, store.license_event(row, days_left=(row.expires_on - today).days),
                     actor=system.actor)
        sent += 1
    return sent
