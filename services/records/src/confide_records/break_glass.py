"""Break the glass: emergency read access for a clinician outside the care team,
for minutes, flagged on every access, queued for compliance review, and the
client's primary clinician told. Never opens psychotherapy notes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from confide_access import Action, Caller, enforce, record_access
from confide_contracts import records as events
from confide_contracts.errors import NotFound
from confide_messaging import UnitOfWork
from confide_persistence import plain

from confide_records import store
from confide_records.access import Access, Refused, Work
from confide_records.domain import break_glass as rules
from confide_records.domain import policy

REVIEW_QUEUE = "review-queue"


def reviewer(unit_of_work, caller: Caller, action: Action, resource_id: str) -> Caller:
    """The caller, if they may review grants (compliance officers); a refusal is recorded."""
    return enforce(unit_of_work, caller, policy.may_review_break_glass(caller), action=action,
                   resource_type="BreakGlassGrant", resource_id=resource_id)


def open_grant(who: Caller, client_id, reason: str, minutes: int) -> Work:
    """The grant, once the clinician's count of grants in the last day (counted
    under a lock, so two at once cannot both be the third) allows it."""
    def work(a: Access):
        today = store.grants_opened_since(a.conn, who.user_id, hours=24)
        decision = policy.may_break_glass(who, a.relations[str(client_id)], today)
        if not decision.allowed:
            raise Refused(decision.reason)
        gid = store.new_id()
        opened = store.now()
        expires = opened + timedelta(minutes=minutes)
        store.add_grant(a.conn, gid, {"client_id": client_id, "user_id": who.user_id, "role": who.role,
                                      "reason": reason, "opened_at": opened, "expires_at": expires})
        primary = store.primary_clinician(a.conn, client_id)
        told = bool(primary and primary != who.user_id)
        if told:
            store.notify(a.conn, primary, "break_glass", client_id, str(gid), {
                "user_id": who.user_id, "role": who.role, "reason": reason, "expires_at": expires.isoformat()})
        a.uow.emit(events.BREAK_GLASS_OPENED, {
            "grant_id": str(gid), "client_id": str(client_id), "user_id": who.user_id,
            "expires_at": expires.isoformat(), "primary_clinician_id": primary,
        }, actor=who.actor, site_id=a.relations[str(client_id)].home_site)
        a.resource_id = str(gid)
        return {"id": str(gid), "client_id": str(client_id), "expires_at": expires.isoformat(),
                "primary_clinician_notified": told}
    return work


wanted = rules.review_status


def queue(uow: UnitOfWork, who: Caller, status: rules.Review) -> list[dict[str, Any]]:
    rows = store.grants_by_review(uow.session.connection(), status.value)
    record_access(uow, who, action=Action.READ, resource_type="BreakGlassGrant", resource_id=REVIEW_QUEUE)
    return rows


def review(uow: UnitOfWork, who: Caller, grant_id, data: dict[str, Any]) -> dict[str, Any]:
    conn = uow.session.connection()
    row = store.grant(conn, grant_id, lock=True)
    if row is None:
        raise NotFound(f"no break-the-glass grant {grant_id}")
    rules.reviewed(row.review_status)
    store.review_grant(conn, grant_id, review_status=data["outcome"], review_comment=data["comment"],
                       reviewed_by=who.user_id)
    record_access(uow, who, action=Action.UPDATE, resource_type="BreakGlassGrant", resource_id=str(grant_id),
                  client_id=str(row.client_id))
    return plain(store.grant(conn, grant_id))


def notifications(uow: UnitOfWork, who: Caller) -> list[dict[str, Any]]:
    return store.notifications_of(uow.session.connection(), who.user_id)
