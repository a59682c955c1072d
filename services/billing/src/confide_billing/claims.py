"""Claims to insurers (837P-shaped, validated before they are kept) and
superbills for clients who claim themselves. Diagnoses come from records, asked
as the caller by the service (records decides and records that access); the
documents' shape and checks are ``domain/claims.py``."""

from __future__ import annotations

from typing import Any

from confide_access import Action, Caller, record_access
from confide_contracts.errors import InvalidRequest, NotFound, conflict, invalid, missing
from confide_messaging import UnitOfWork
from confide_persistence import plain

from confide_billing import ledger, store
from confide_billing.domain.claims import ClaimStatus, build_claim, transition, validate_claim


def create(uow: UnitOfWork, who: Caller, appointment_id: str, client_id: str, diagnoses: list[str]) -> dict:
    """A claim for one session of an insured client; a pre-licensed clinician's
    session names the supervisor credentialing records for its date."""
    conn = uow.session.connection()
    acct = store.account(conn, client_id)
    if acct is None:
        raise NotFound(f"no billing account for {client_id}")
    lines = store.billed_lines(conn, client_id, appointment_id)
    if not lines:
        raise missing("appointment_id", "has no charges for this client to claim")
    provider = store.billing_provider(conn, lines[0].site_id)
    if provider is None:
        raise conflict("billing_provider", f"none set for site {lines[0].site_id}")
    supervisor = store.supervisor_on(conn, lines[0].clinician_id, lines[0].service_date)
    claim_id = store.new_id()
    doc = build_claim(
        claim_id=str(claim_id), billing_provider=plain(provider), payer=acct.payer, member_id=acct.member_id,
        client_id=client_id, rendering=store.person(conn, lines[0].clinician_id),
        supervising=store.person(conn, supervisor), diagnoses=diagnoses,
        lines=[{**plain(line), "modifiers": list(line.modifiers)} for line in lines], currency=lines[0].currency)
    errors = validate_claim(doc)
    if errors:
        raise InvalidRequest(errors)
    if not store.add_claim(conn, claim_id, {
            "appointment_id": appointment_id, "client_id": client_id, "payer": acct.payer,
            "status": ClaimStatus.READY.value, "document": doc, "total_minor": doc["total_charge_minor"],
            "currency": doc["currency"]}):
        raise conflict("appointment_id", "already has a claim for this client")
    record_access(uow, who, action=Action.CREATE, resource_type="Claim", resource_id=str(claim_id),
                  client_id=client_id)
    return {"id": str(claim_id), "status": ClaimStatus.READY.value, "document": doc}


def track(uow: UnitOfWork, who: Caller, claim_id, data: dict[str, Any]) -> dict[str, Any]:
    """``submitted``, then ``paid`` (the payer's payment goes to the client's
    account) or ``denied`` with the payer's reason."""
    conn = uow.session.connection()
    row = store.claim(conn, claim_id, lock=True)
    if row is None:
        raise NotFound(f"no claim {claim_id}")
    status = transition(row.status, data["status"])
    values: dict[str, Any] = {"status": status.value}
    if status == ClaimStatus.PAID:
        values["paid_minor"] = data["paid_minor"]
        ledger.record_payment(uow, who.actor, row.client_id, data["paid_minor"], row.currency, "insurer",
                              f"claim {claim_id}")
    if status == ClaimStatus.DENIED:
        values["denial_reason"] = data["reason"]
    store.change_claim(conn, claim_id, **values)
    record_access(uow, who, action=Action.UPDATE, resource_type="Claim", resource_id=str(claim_id),
                  client_id=row.client_id)
    return {k: v for k, v in plain(store.claim(conn, claim_id)).items() if k != "document"}


def superbill(uow: UnitOfWork, who: Caller, data: dict[str, Any], diagnoses: list[str]) -> dict[str, Any]:
    """Provider, diagnoses, sessions with codes and fees, and what was paid."""
    client_id = data["client_id"]
    conn = uow.session.connection()
    lines = store.billed_lines(conn, client_id, period=(data["period_start"], data["period_end"]))
    if not lines:
        raise invalid("period_start", "no sessions billed in this period")
    provider = store.billing_provider(conn, lines[0].site_id)
    paid = store.payments_of(conn, client_id, "payment")
    result = {
        "client_id": client_id, "period_start": data["period_start"].isoformat(),
        "period_end": data["period_end"].isoformat(),
        "provider": plain(provider) if provider else None,
        "diagnoses": diagnoses,
        "sessions": [{"date": line.service_date.isoformat(), "code": line.code, "modifiers": line.modifiers,
                      "units": line.units, "place_of_service": line.place_of_service,
                      "rendering": store.person(conn, line.clinician_id),
                      "fee_minor": line.amount_minor} for line in lines],
        "total_minor": sum(line.amount_minor for line in lines),
        "paid_minor": sum(r.amount_minor for r in paid),
        "currency": lines[0].currency,
    }
    record_access(uow, who, action=Action.EXPORT, resource_type="Superbill", resource_id=client_id,
                  client_id=client_id)
    return result
