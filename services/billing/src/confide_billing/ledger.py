"""The billing ledger's use cases: charges from sessions and fees, reversals,
invoices, payments and refunds, each in the caller's unit of work (the service's
handlers and RPCs, and the property test that drives them with random event
sequences). The arithmetic is ``domain/`` (coding, money); the SQL is ``store``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from confide_access import Action, Caller, record_access
from confide_contracts import billing as events
from confide_contracts.errors import NotFound, conflict, invalid, missing
from confide_events import Actor
from confide_messaging import UnitOfWork
from confide_persistence import plain

from confide_billing import store
from confide_billing.domain.coding import code_session
from confide_billing.domain.money import allocate, sliding, tier_for

SELF_PAY = "self_pay"

def account(conn, client_id: str, currency: str) -> Any:
    """The client's account; a client billing has not heard of pays for themself, at the full fee."""
    return store.account(conn, client_id) or store.ensure_account(conn, client_id, SELF_PAY, currency)


def _charge_once(uow: UnitOfWork, actor: Actor, values: dict) -> uuid.UUID | None:
    cid = store.insert_charge_once(uow.session.connection(), values)
    if cid is not None:
        _charge_created(uow, actor, cid, values)
    return cid


def _charge_created(uow: UnitOfWork, actor: Actor, cid, values: dict) -> None:
    uow.emit(events.CHARGE_CREATED, {"charge_id": str(cid), "client_id": values["client_id"],
                                     "appointment_id": values.get("appointment_id"), "kind": values["kind"],
                                     "code": values.get("code"), "amount_minor": values["amount_minor"],
                                     "currency": values["currency"]}, actor=actor, site_id=values["site_id"])


def charge_session(uow: UnitOfWork, actor: Actor, appointment: dict, default_currency: str) -> list:
    """Charges for a completed appointment: one per client and code line."""
    conn = uow.session.connection()
    coding = code_session(appointment["service_kind"], appointment.get("minutes") or 0, appointment["modality"],
                          patient_present=appointment.get("patient_present") is not False,
                          interactive_complexity=bool(appointment.get("interactive_complexity")))
    service_date = datetime.fromisoformat(appointment["starts_at"]).date()
    made = []
    for client in appointment["client_ids"]:
        acct = account(conn, client, default_currency)
        if not coding.billable:
            store.mark_unbilled(conn, appointment["appointment_id"], client, coding.reason)
            continue
        tier = tier_for(acct.annual_income_minor, store.tiers(conn, appointment["site_id"], acct.currency)) \
            if acct.payer == SELF_PAY else None
        for line in coding.lines:
            price = store.fee(conn, appointment["site_id"], acct.payer, line.code, service_date)
            if price is None or price.currency != acct.currency:
                store.mark_unbilled(conn, appointment["appointment_id"], client,
                                    f"no {acct.currency} fee for {line.code} at {appointment['site_id']} for "
                                    f"{acct.payer} on {service_date.isoformat()}")
                continue
            full = price.amount_minor * line.units
            amount = sliding(full, tier.percent) if tier else full
            made.append(_charge_once(uow, actor, {
                "client_id": client, "appointment_id": appointment["appointment_id"], "site_id": appointment["site_id"],
                "clinician_id": appointment["clinician_id"], "kind": "service", "code": line.code,
                "units": line.units, "modifiers": list(line.modifiers),
                "place_of_service": coding.place_of_service, "service_date": service_date, "amount_minor": amount,
                "currency": acct.currency, "full_fee_minor": full, "sliding_tier": tier.name if tier else None}))
    return [c for c in made if c]


def charge_fee(uow: UnitOfWork, actor: Actor, appointment: dict, kind: str) -> list:
    """The site's no-show or late-cancellation fee, once per client."""
    conn = uow.session.connection()
    policy = store.site_policy(conn, appointment["site_id"])
    if policy is None:
        return []
    amount = policy.no_show_fee_minor if kind == "no_show" else policy.late_cancel_fee_minor
    if amount == 0:
        return []
    made = []
    for client in appointment["client_ids"]:
        account(conn, client, policy.currency)
        made.append(_charge_once(uow, actor, {
            "client_id": client, "appointment_id": appointment["appointment_id"], "site_id": appointment["site_id"],
            "kind": kind, "code": None, "units": 1, "modifiers": [], "place_of_service": None,
            "service_date": datetime.fromisoformat(appointment["starts_at"]).date(), "amount_minor": amount,
            "currency": policy.currency, "full_fee_minor": amount, "sliding_tier": None}))
    return [c for c in made if c]


def reverse(uow: UnitOfWork, actor: Actor, charge_id, reason: str) -> uuid.UUID:
    """A correction: a charge of the opposite amount; the two net to zero."""
    conn = uow.session.connection()
    original = store.charge(conn, charge_id, lock=True)
    if original is None:
        raise NotFound(f"no charge {charge_id}")
    if original.kind == "reversal":
        raise invalid("charge_id", "is itself a reversal")
    if store.is_reversed(conn, charge_id):
        raise conflict("charge_id", "is already reversed")
    rid = store.new_id()
    values = {"client_id": original.client_id, "appointment_id": original.appointment_id,
              "site_id": original.site_id, "clinician_id": original.clinician_id, "kind": "reversal",
              "code": original.code, "units": original.units, "modifiers": original.modifiers,
              "place_of_service": original.place_of_service, "service_date": original.service_date,
              "amount_minor": -original.amount_minor, "currency": original.currency, "reverses_id": original.id,
              "note": reason}
    store.insert_charge(conn, rid, values)
    _charge_created(uow, actor, rid, values)
    return rid


def issue_invoice(uow: UnitOfWork, actor: Actor, client_id: str, start: date, end: date) -> dict | None:
    """A statement of the client's uninvoiced charges with service dates in the period."""
    conn = uow.session.connection()
    rows = store.uninvoiced_charges(conn, client_id, start, end)
    if not rows:
        return None
    currencies = {r.currency for r in rows}
    if len(currencies) > 1:
        raise invalid("client_id", f"charges in several currencies ({', '.join(sorted(currencies))})")
    iid, total = store.new_id(), sum(r.amount_minor for r in rows)
    store.add_invoice(conn, iid, client_id, start, end, total, rows[0].currency, [r.id for r in rows])
    uow.emit(events.INVOICE_ISSUED, {"invoice_id": str(iid), "client_id": client_id, "total_minor": total,
                                     "currency": rows[0].currency, "period_start": start.isoformat(),
                                     "period_end": end.isoformat()}, actor=actor)
    return {"id": str(iid), "total_minor": total, "currency": rows[0].currency, "lines": len(rows)}


def record_payment(uow: UnitOfWork, actor: Actor, client_id: str, amount_minor: int, currency: str, method: str,
                   reference: str | None = None) -> dict:
    """A payment, split over the client's open invoices oldest first; what is
    left is a credit on the account."""
    conn = uow.session.connection()
    _locked_account(conn, client_id, currency)
    pid = store.new_id()
    store.add_payment(conn, pid, client_id, "payment", amount_minor, currency, method, reference)
    owed = [(iid, outstanding) for iid, outstanding, cur in store.open_invoices(conn, client_id) if cur == currency]
    split, credit = allocate(amount_minor, owed)
    store.allocate_payment(conn, pid, split)
    uow.emit(events.PAYMENT_RECORDED, {"payment_id": str(pid), "client_id": client_id, "kind": "payment",
                                       "amount_minor": amount_minor, "currency": currency}, actor=actor)
    return {"id": str(pid), "allocations": [{"invoice_id": str(i), "amount_minor": a} for i, a in split],
            "credit_minor": credit}


def refund(uow: UnitOfWork, actor: Actor, client_id: str, amount_minor: int, currency: str, method: str) -> dict:
    """Pay back a credit; never more than the account holds in credit."""
    conn = uow.session.connection()
    _locked_account(conn, client_id, currency)
    credit = -store.balance(conn, client_id)
    if amount_minor > credit:
        raise conflict("amount_minor", f"exceeds the credit of {max(credit, 0)} {currency}")
    pid = store.new_id()
    store.add_payment(conn, pid, client_id, "refund", amount_minor, currency, method)
    uow.emit(events.PAYMENT_RECORDED, {"payment_id": str(pid), "client_id": client_id, "kind": "refund",
                                       "amount_minor": amount_minor, "currency": currency}, actor=actor)
    return {"id": str(pid), "amount_minor": amount_minor}


def _locked_account(conn, client_id: str, currency: str):
    """The client's account, locked for a money movement in ``currency``."""
    acct = store.account(conn, client_id, lock=True)
    if acct is None:
        raise missing("client_id", f"no billing account for {client_id}")
    if currency != acct.currency:
        raise conflict("currency", f"the account is in {acct.currency}, not {currency}")
    return acct


# --- as staff do them: each recorded as an access to the client's books -----------------
def reverse_recorded(uow: UnitOfWork, who: Caller, charge_id, reason: str) -> dict[str, Any]:
    rid = reverse(uow, who.actor, charge_id, reason)
    row = store.charge(uow.session.connection(), rid)
    record_access(uow, who, action=Action.UPDATE, resource_type="Charge", resource_id=str(charge_id),
                  client_id=row.client_id)
    return plain(row)


def invoice_recorded(uow: UnitOfWork, who: Caller, data: dict[str, Any]) -> dict | None:
    invoice = issue_invoice(uow, who.actor, data["client_id"], data["period_start"], data["period_end"])
    record_access(uow, who, action=Action.CREATE, resource_type="Invoice",
                  resource_id=invoice["id"] if invoice else None, client_id=data["client_id"])
    return invoice


def payment_recorded(uow: UnitOfWork, who: Caller, data: dict[str, Any]) -> dict[str, Any]:
    result = record_payment(uow, who.actor, data["client_id"], data["amount_minor"], data["currency"],
                            data["method"], data["reference"])
    record_access(uow, who, action=Action.CREATE, resource_type="Payment", resource_id=result["id"],
                  client_id=data["client_id"])
    return result


def refund_recorded(uow: UnitOfWork, who: Caller, data: dict[str, Any]) -> dict[str, Any]:
    result = refund(uow, who.actor, data["client_id"], data["amount_minor"], data["currency"], data["method"])
    record_access(uow, who, action=Action.CREATE, resource_type="Payment", resource_id=result["id"],
                  client_id=data["client_id"])
    return result
