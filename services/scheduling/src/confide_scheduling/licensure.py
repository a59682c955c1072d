"""The licensure answer from scheduling's projection of credentialing's events,
and what happens to booked sessions when a licence or a supervision stops
covering them (flagged for reassignment, announced)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from confide_access import CallerSchema
from confide_contracts import scheduling as events
from confide_licensure import may_practice
from confide_messaging import UnitOfWork

from confide_scheduling import store
from confide_scheduling.domain.localtime import zone

log = logging.getLogger(__name__)

NOT_IN_FORCE = ("suspended", "expired", "revoked")


def answer(conn, clinician_id: str, service_kind: str, jurisdiction: str, modality: str, day: date, facts=None):
    licenses, supervisions = facts or store.licensure_facts(conn, clinician_id)
    return may_practice(licenses, supervisions, service_kind, jurisdiction, modality, day)


def apply_license_event(uow: UnitOfWork, event) -> None:
    """Keep the projection; when a licence stops being in force, flag every
    future appointment it no longer covers."""
    p = event.payload
    values: dict[str, Any] = {
        "clinician_id": p["clinician_id"], "type": p["credential_type"], "jurisdiction": p["jurisdiction"],
        "number": p["number"], "status": p["status"], "issued_on": date.fromisoformat(p["issued_on"]),
        "expires_on": date.fromisoformat(p["expires_on"]), "as_of": event.occurred_at}
    store.apply_license(uow.session.connection(), p["license_id"], values)
    if p["status"] in NOT_IN_FORCE:
        reassess(uow, p["clinician_id"], event)


def reassess(uow: UnitOfWork, clinician_id: str, event) -> None:
    """Flag the clinician's future booked sessions the projection no longer licenses."""
    conn = uow.session.connection()
    rows = store.future_booked_of(conn, clinician_id)
    system = CallerSchema().load({"user_id": "scheduling.licensure", "role": "system", "purpose": "operations"})
    for row in rows:
        day = row.starts_at.astimezone(zone(store.site(conn, row.site_id).time_zone)).date()
        verdict = answer(conn, clinician_id, row.service_kind, row.client_jurisdiction, row.modality, day)
        if verdict.allowed:
            continue
        store.change_appointment(conn, row.id, needs_reassignment=True, reassignment_reasons=verdict.reasons)
        uow.emit(events.APPOINTMENT_NEEDS_REASSIGNMENT, {
            "appointment_id": str(row.id), "clinician_id": clinician_id, "site_id": row.site_id,
            "starts_at": row.starts_at.isoformat(), "reasons": verdict.reasons,
        }, actor=system.actor, site_id=row.site_id)
    log.info("reassessed %d future appointments of %s after %s", len(rows), clinician_id, event.type)
