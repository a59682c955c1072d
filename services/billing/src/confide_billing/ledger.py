"""The billing ledger: every write to charges, invoices and payments, each in
the caller's unit of work (the service's handlers and RPCs, and the property
test that drives them with random event sequences)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import uuid_utils.compat as uuid_compat
from confide_access import InvalidRequest
from confide_contracts import billing as events
from confide_contracts.errors import NotFound
from confide_events import Actor
from confide_messaging import UnitOfWork
from sqlalchemy import func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from confide_billing import models as m
from confide_billing.domain.coding import code_session
from confide_billing.domain.money import Tier, allocate, sliding, tier_for

SELF_PAY = "self_pay"


def new_id():
    return uuid_compat.uuid7()


def now() -> datetime:
    return datetime.now(UTC)


def account(conn, client_id: str, currency: str) -> Any:
    row = conn.execute(select(m.accounts).where(m.accounts.c.client_id == client_id)).first()
    if row is None:  # a client billing has not heard of pays for themself, at the full fee
        conn.execute(pg_insert(m.accounts).values(client_id=client_id, payer=SELF_PAY, currency=currency)
                     .on_conflict_do_nothing())
        row = conn.execute(select(m.accounts).where(m.accounts.c.client_id == client_id)).first()
    return row


def fee(conn, site_id: str, payer: str, code: str, on: date) -> Any:
    f = m.fee_schedules
    return conn.execute(select(f).where(
        f.c.site_id == site_id, f.c.payer == payer, f.c.code == code, f.c.effective_from <= on,
        or_(f.c.effective_until.is_(None), f.c.effective_until >= on)).order_by(f.c.effective_from.desc())
        .limit(1)).first()


def tiers(conn, site_id: str, currency: str) -> list[Tier]:
    s = m.sliding_scale
    return [Tier(r.name, r.max_income_minor, r.percent) for r in conn.execute(
        select(s).where(s.c.site_id == site_id, s.c.currency == currency))]


def _insert_charge(uow: UnitOfWork, actor: Actor, values: dict) -> uuid.UUID | None:
    """Insert once: a second charge for the same appointment, client, kind and
    code is ignored (``None``)."""
    cid = new_id()
    inserted = uow.session.execute(pg_insert(m.charges).values(id=cid, **values).on_conflict_do_nothing(
        index_elements=["appointment_id", "client_id", "kind", "code"],
        # a literal predicate: a bound parameter would stop PostgreSQL from matching the
        # partial index once psycopg prepares the statement (after 5 runs)
        index_where=text("kind <> 'reversal'")).returning(m.charges.c.id)).first()
    if inserted is None:
        return None
    uow.emit(events.CHARGE_CREATED, {"charge_id": str(cid), "client_id": values["client_id"],
                                     "appointment_id": values.get("appointment_id"), "kind": values["kind"],
                                     "code": values.get("code"), "amount_minor": values["amount_minor"],
                                     "currency": values["currency"]}, actor=actor, site_id=values["site_id"])
    return cid


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
            _unbilled(conn, appointment["appointment_id"], client, coding.reason)
            continue
        tier = tier_for(acct.annual_income_minor, tiers(conn, appointment["site_id"], acct.currency)) \
            if acct.payer == SELF_PAY else None
        for line in coding.lines:
            price = fee(conn, appointment["site_id"], acct.payer, line.code, service_date)
            if price is None or price.currency != acct.currency:
                _unbilled(conn, appointment["appointment_id"], client,
                          f"no {acct.currency} fee for {line.code} at {appointment['site_id']} for {acct.payer} "
                          f"on {service_date.isoformat()}")
                continue
            full = price.amount_minor * line.units
            amount = sliding(full, tier.percent) if tier else full
            made.append(_insert_charge(uow, actor, {
                "client_id": client, "appointment_id": appointment["appointment_id"], "site_id": appointment["site_id"],
                "clinician_id": appointment["clinician_id"], "kind": "service", "code": line.code,
                "units": line.units, "modifiers": list(line.modifiers),
                "place_of_service": coding.place_of_service, "service_date": service_date, "amount_minor": amount,
                "currency": acct.currency, "full_fee_minor": full, "sliding_tier": tier.name if tier else None}))
    return [c for c in made if c]


def _unbilled(conn, appointment_id: str, client_id: str, reason: str) -> None:
    conn.execute(pg_insert(m.unbilled).values(appointment_id=appointment_id, client_id=client_id, reason=reason)
                 .on_conflict_do_nothing())


def charge_fee(uow: UnitOfWork, actor: Actor, appointment: dict, kind: str) -> list:
    """The site's no-show or late-cancellation fee, once per client."""
    conn = uow.session.connection()
    policy = conn.execute(select(m.site_policies).where(m.site_policies.c.site_id == appointment["site_id"])).first()
    if policy is None:
        return []
    amount = policy.no_show_fee_minor if kind == "no_show" else policy.late_cancel_fee_minor
    if amount == 0:
        return []
    made = []
    for client in appointment["client_ids"]:
        account(conn, client, policy.currency)
        made.append(_insert_charge(uow, actor, {
            "client_id": client, "appointment_id": appointment["appointment_id"], "site_id": appointment["site_id"],
            "kind": kind, "code": None, "units": 1, "modifiers": [], "place_of_service": None,
            "service_date": datetime.fromisoformat(appointment["starts_at"]).date(), "amount_minor": amount,
            "currency": policy.currency, "full_fee_minor": amount, "sliding_tier": None}))
    return [c for c in made if c]


def reverse(uow: UnitOfWork, actor: Actor, charge_id, reason: str) -> uuid.UUID:
    conn = uow.session.connection()
    original = conn.execute(select(m.charges).where(m.charges.c.id == charge_id).with_for_update()).first()
    if original is None:
        raise NotFound(f"no charge {charge_id}")
    if original.kind == "reversal":
        raise InvalidRequest({"charge_id": ["is itself a reversal"]})
    if conn.execute(select(m.charges.c.id).where(m.charges.c.reverses_id == charge_id)).first():
        raise InvalidRequest({"charge_id": ["is already reversed"]})
    rid = new_id()
    conn.execute(insert(m.charges).values(
        id=rid, client_id=original.client_id, appointment_id=original.appointment_id, site_id=original.site_id,
        clinician_id=original.clinician_id, kind="reversal", code=original.code, units=original.units,
        modifiers=original.modifiers,
        place_of_service=original.place_of_service, service_date=original.service_date,
        amount_minor=-original.amount_minor, currency=original.currency, reverses_id=original.id, note=reason))
    uow.emit(events.CHARGE_CREATED, {"charge_id": str(rid), "client_id": original.client_id,
                                     "appointment_id": original.appointment_id, "kind": "reversal",
                                     "code": original.code, "amount_minor": -original.amount_minor,
                                     "currency": original.currency}, actor=actor, site_id=original.site_id)
    return rid


def issue_invoice(uow: UnitOfWork, actor: Actor, client_id: str, start: date, end: date) -> dict | None:
    """A statement of the client's uninvoiced charges with service dates in the period."""
    conn = uow.session.connection()
    c = m.charges
    rows = conn.execute(select(c).where(c.c.client_id == client_id, c.c.invoice_id.is_(None),
                                        c.c.service_date >= start, c.c.service_date <= end).with_for_update()).all()
    if not rows:
        return None
    currencies = {r.currency for r in rows}
    if len(currencies) > 1:
        raise InvalidRequest({"client_id": [f"charges in several currencies ({', '.join(sorted(currencies))})"]})
    iid, total = new_id(), sum(r.amount_minor for r in rows)
    conn.execute(insert(m.invoices).values(id=iid, client_id=client_id, period_start=start, period_end=end,
                                           total_minor=total, currency=rows[0].currency, issued_at=now()))
    conn.execute(update(c).where(c.c.id.in_([r.id for r in rows])).values(invoice_id=iid))
    uow.emit(events.INVOICE_ISSUED, {"invoice_id": str(iid), "client_id": client_id, "total_minor": total,
                                     "currency": rows[0].currency, "period_start": start.isoformat(),
                                     "period_end": end.isoformat()}, actor=actor)
    return {"id": str(iid), "total_minor": total, "currency": rows[0].currency, "lines": len(rows)}


def open_invoices(conn, client_id: str) -> list[tuple[uuid.UUID, int, str]]:
    i, a = m.invoices, m.allocations
    paid = select(a.c.invoice_id, func.sum(a.c.amount_minor).label("paid")).group_by(a.c.invoice_id).subquery()
    rows = conn.execute(select(i.c.id, i.c.total_minor, i.c.currency, func.coalesce(paid.c.paid, 0).label("paid"))
                        .outerjoin(paid, paid.c.invoice_id == i.c.id).where(i.c.client_id == client_id)
                        .order_by(i.c.issued_at, i.c.id)).all()
    # (PostgreSQL's SUM of bigint is numeric: back to whole cents)
    return [(r.id, int(r.total_minor - r.paid), r.currency) for r in rows if r.total_minor - r.paid > 0]


def record_payment(uow: UnitOfWork, actor: Actor, client_id: str, amount_minor: int, currency: str, method: str,
                   reference: str | None = None) -> dict:
    """A payment, split over the client's open invoices oldest first; what is
    left is a credit on the account."""
    conn = uow.session.connection()
    _locked_account(conn, client_id, currency)
    pid = new_id()
    conn.execute(insert(m.payments).values(id=pid, client_id=client_id, kind="payment", amount_minor=amount_minor,
                                           currency=currency, method=method, reference=reference, received_at=now()))
    owed = [(iid, outstanding) for iid, outstanding, cur in open_invoices(conn, client_id) if cur == currency]
    split, credit = allocate(amount_minor, owed)
    if split:
        conn.execute(insert(m.allocations), [{"payment_id": pid, "invoice_id": iid, "amount_minor": amount}
                                             for iid, amount in split])
    uow.emit(events.PAYMENT_RECORDED, {"payment_id": str(pid), "client_id": client_id, "kind": "payment",
                                       "amount_minor": amount_minor, "currency": currency}, actor=actor)
    return {"id": str(pid), "allocations": [{"invoice_id": str(i), "amount_minor": a} for i, a in split],
            "credit_minor": credit}


def refund(uow: UnitOfWork, actor: Actor, client_id: str, amount_minor: int, currency: str, method: str) -> dict:
    """Pay back a credit; never more than the account holds in credit."""
    conn = uow.session.connection()
    _locked_account(conn, client_id, currency)
    credit = -balance(conn, client_id)
    if amount_minor > credit:
        raise InvalidRequest({"amount_minor": [f"exceeds the credit of {max(credit, 0)} {currency}"]})
    pid = new_id()
    conn.execute(insert(m.payments).values(id=pid, client_id=client_id, kind="refund", amount_minor=amount_minor,
                                           currency=currency, method=method, received_at=now()))
    uow.emit(events.PAYMENT_RECORDED, {"payment_id": str(pid), "client_id": client_id, "kind": "refund",
                                       "amount_minor": amount_minor, "currency": currency}, actor=actor)
    return {"id": str(pid), "amount_minor": amount_minor}


def _locked_account(conn, client_id: str, currency: str):
    """The client's account, locked for a money movement in ``currency``."""
    acct = conn.execute(select(m.accounts).where(m.accounts.c.client_id == client_id).with_for_update()).first()
    if acct is None:
        raise InvalidRequest({"client_id": [f"no billing account for {client_id}"]})
    if currency != acct.currency:
        raise InvalidRequest({"currency": [f"the account is in {acct.currency}, not {currency}"]})
    return acct


def balance(conn, client_id: str) -> int:
    """What the client owes (negative: a credit): charges less payments plus refunds."""
    charged = conn.execute(select(func.coalesce(func.sum(m.charges.c.amount_minor), 0))
                           .where(m.charges.c.client_id == client_id)).scalar()
    p = m.payments
    paid = conn.execute(select(func.coalesce(func.sum(p.c.amount_minor), 0))
                        .where(p.c.client_id == client_id, p.c.kind == "payment")).scalar()
    refunded = conn.execute(select(func.coalesce(func.sum(p.c.amount_minor), 0))
                            .where(p.c.client_id == client_id, p.c.kind == "refund")).scalar()
    return int(charged) - int(paid) + int(refunded)


