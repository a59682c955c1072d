"""Consents: releases of information, psychotherapy-note authorizations and the
like, recorded, listed, and revoked (announced, so no service acts on one that
is gone)."""

from __future__ import annotations

from typing import Any

from confide_contracts import records as events
from confide_contracts.errors import conflict
from confide_messaging import UnitOfWork

from confide_records import store
from confide_records.access import Access, Work


def record(client_id, data: dict[str, Any]) -> Work:
    data = {**data, "scope": [str(k) for k in data["scope"]]}

    def work(a: Access):
        consent_id = store.new_id()
        store.add_consent(a.conn, consent_id, client_id, a.caller.user_id, data)
        a.resource_id = str(consent_id)
        return store.consent(a.conn, consent_id)
    return work


def find(uow: UnitOfWork, consent_id) -> dict[str, Any] | None:
    return store.consent(uow.session.connection(), consent_id)


def revoke(consent: dict[str, Any], reason: str) -> Work:
    def work(a: Access):
        if not store.revoke_consent(a.conn, consent["id"], a.caller.user_id, reason):
            raise conflict("consent_id", "is already revoked")
        a.uow.emit(events.CONSENT_REVOKED, {"consent_id": str(consent["id"]), "client_id": str(consent["client_id"]),
                                            "kind": consent["kind"]}, actor=a.caller.actor)
        return store.consent(a.conn, consent["id"])
    return work


def listed(client_id) -> Work:
    return lambda a: store.consents(a.conn, client_id)
