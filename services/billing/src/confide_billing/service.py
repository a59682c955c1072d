"""The billing service's entrypoints.

Charges come from scheduling's events -- ``completed`` (coded from the
psychotherapy code table), ``no_show`` and late ``cancelled`` (the site's fees)
-- each exactly once however often the event arrives (the inbox, and a unique
index on appointment, client, kind and code). Every read of a client's billing
data is access-recorded; every change is too.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import confide_contracts  # noqa: F401 - registers the event schemas used here
from confide_access import AccessDenied, Action, Caller, CallerSchema, InvalidRequest, deny, load, record_access
from confide_contracts import scheduling as sched
from confide_messaging import OutboxRelayRunner, UnitOfWorkProvider, handles
from nameko import config
from nameko.rpc import rpc
from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from confide_billing import ledger
from confide_billing import models as m
from confide_billing.schemas import (
    AccountSchema,
    FeeSchema,
    InvoiceRequestSchema,
    PaymentSchema,
    PolicySchema,
    ScaleSchema,
)

EXPECTED = (AccessDenied, InvalidRequest, LookupError)
BILLING_STAFF = ("biller", "front_desk", "admin")
SYSTEM = CallerSchema().load({"user_id": "billing.charges", "role": "system", "purpose": "payment"})


def plain(row) -> dict[str, Any]:
    out = {}
    for key, value in row._mapping.items():
        if isinstance(value, date):
            value = value.isoformat()
        elif hasattr(value, "hex") and not isinstance(value, bytes | str):
            value = str(value)
        out[key] = value
    return out


class BillingService:
    name = "billing"

    uow = UnitOfWorkProvider()
    relay = OutboxRelayRunner()

    def _staff(self, caller: dict, roles: tuple[str, ...], what: str, client_id: str | None = None) -> Caller:
        who = load(CallerSchema(), caller)
        if who.role not in roles:
            deny(self.uow, who, action=Action.READ if what.startswith("read") else Action.UPDATE,
                 resource_type="Account", resource_id=client_id or what, client_id=client_id,
                 reason=f"role {who.role} may not {what}")
        return who

    # --- price lists ---------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def set_fee(self, caller: dict, fee: dict) -> dict[str, Any]:
        """A price for a code at a site for a payer (``self_pay`` or a payer id), from a date."""
        data = load(FeeSchema(), fee)
        self._staff(caller, ("admin",), "set fees")
        fid = ledger.new_id()
        with self.uow() as uow:
            uow.session.execute(insert(m.fee_schedules).values(id=fid, **data))
        return {"id": str(fid), **FeeSchema().dump(data)}

    @rpc(expected_exceptions=EXPECTED)
    def set_sliding_scale(self, caller: dict, scale: dict) -> list[dict[str, Any]]:
        """Replace a site's income tiers for self-pay clients."""
        data = load(ScaleSchema(), scale)
        self._staff(caller, ("admin",), "set the sliding scale")
        with self.uow() as uow:
            s = m.sliding_scale
            uow.session.execute(delete(s).where(s.c.site_id == data["site_id"], s.c.currency == data["currency"]))
            uow.session.execute(insert(s), [{"id": ledger.new_id(), "site_id": data["site_id"],
                                             "currency": data["currency"], **t} for t in data["tiers"]])
        return data["tiers"]

    @rpc(expected_exceptions=EXPECTED)
    def set_site_policy(self, caller: dict, policy: dict) -> dict[str, Any]:
        """The site's no-show and late-cancellation fees."""
        data = load(PolicySchema(), policy)
        self._staff(caller, ("admin",), "set site fees")
        with self.uow() as uow:
            statement = pg_insert(m.site_policies).values(**data)
            uow.session.execute(statement.on_conflict_do_update(index_elements=["site_id"], set_=data))
        return data

    # --- accounts ------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def open_account(self, caller: dict, account: dict) -> dict[str, Any]:
        """Who pays for the client (``self_pay`` or a payer with the member id),
        and household income for the sliding scale."""
        data = load(AccountSchema(), account)
        who = self._staff(caller, BILLING_STAFF, "change billing accounts", data["client_id"])
        with self.uow() as uow:
            statement = pg_insert(m.accounts).values(**data)
            uow.session.execute(statement.on_conflict_do_update(
                index_elements=["client_id"], set_={k: v for k, v in data.items() if k != "client_id"}))
            record_access(uow, who, action=Action.UPDATE, resource_type="Account", resource_id=data["client_id"],
                          client_id=data["client_id"])
        return data

    @rpc(expected_exceptions=EXPECTED)
    def statement(self, caller: dict, client_id: str) -> dict[str, Any]:
        """The client's charges, invoices (with what is still owed), payments and balance."""
        who = self._staff(caller, BILLING_STAFF, "read billing data", client_id)
        with self.uow() as uow:
            conn = uow.session.connection()
            acct = conn.execute(select(m.accounts).where(m.accounts.c.client_id == client_id)).first()
            if acct is None:
                raise LookupError(f"no billing account for {client_id}")
            c, i, p = m.charges, m.invoices, m.payments
            owed = {iid: left for iid, left, _ in ledger.open_invoices(conn, client_id)}
            result = {
                "account": plain(acct),
                "charges": [plain(r) for r in conn.execute(select(c).where(c.c.client_id == client_id)
                                                           .order_by(c.c.service_date, c.c.created_at))],
                "invoices": [{**plain(r), "outstanding_minor": owed.get(r.id, 0)} for r in conn.execute(
                    select(i).where(i.c.client_id == client_id).order_by(i.c.issued_at))],
                "payments": [plain(r) for r in conn.execute(select(p).where(p.c.client_id == client_id)
                                                            .order_by(p.c.received_at))],
                "unbilled": [plain(r) for r in conn.execute(select(m.unbilled).where(
                    m.unbilled.c.client_id == client_id))],
                "balance_minor": ledger.balance(conn, client_id),
            }
            record_access(uow, who, action=Action.READ, resource_type="Account", resource_id=client_id,
                          client_id=client_id)
        return result

    # --- charges, invoices, payments ---------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def reverse_charge(self, caller: dict, charge_id: str, reason: str) -> dict[str, Any]:
        """A correction: a charge of the opposite amount; the two net to zero."""
        if not isinstance(reason, str) or len(reason.strip()) < 2:
            raise InvalidRequest({"reason": ["say why the charge is reversed"]})
        who = self._staff(caller, ("biller", "admin"), "reverse charges")
        cid = ledger.parse_uuid(charge_id, "charge_id")
        with self.uow() as uow:
            rid = ledger.reverse(uow, who.actor, cid, reason)
            row = uow.session.execute(select(m.charges).where(m.charges.c.id == rid)).first()
            record_access(uow, who, action=Action.UPDATE, resource_type="Charge", resource_id=str(cid),
                          client_id=row.client_id)
            return plain(row)

    @rpc(expected_exceptions=EXPECTED)
    def issue_invoice(self, caller: dict, request: dict) -> dict[str, Any] | None:
        data = load(InvoiceRequestSchema(), request)
        who = self._staff(caller, ("biller", "admin"), "issue invoices", data["client_id"])
        with self.uow() as uow:
            invoice = ledger.issue_invoice(uow, who.actor, data["client_id"], data["period_start"],
                                           data["period_end"])
            record_access(uow, who, action=Action.CREATE, resource_type="Invoice",
                          resource_id=invoice["id"] if invoice else None, client_id=data["client_id"])
        return invoice

    @rpc(expected_exceptions=EXPECTED)
    def record_payment(self, caller: dict, payment: dict) -> dict[str, Any]:
        """A payment, split over open invoices oldest first; any rest is a credit."""
        data = load(PaymentSchema(), payment)
        who = self._staff(caller, BILLING_STAFF, "record payments", data["client_id"])
        with self.uow() as uow:
            result = ledger.record_payment(uow, who.actor, data["client_id"], data["amount_minor"], data["currency"],
                                           data["method"], data["reference"])
            record_access(uow, who, action=Action.CREATE, resource_type="Payment", resource_id=result["id"],
                          client_id=data["client_id"])
        return result

    @rpc(expected_exceptions=EXPECTED)
    def refund(self, caller: dict, payment: dict) -> dict[str, Any]:
        """Pay back (part of) a credit."""
        data = load(PaymentSchema(), payment)
        who = self._staff(caller, ("biller", "admin"), "refund", data["client_id"])
        with self.uow() as uow:
            result = ledger.refund(uow, who.actor, data["client_id"], data["amount_minor"], data["currency"],
                                   data["method"])
            record_access(uow, who, action=Action.CREATE, resource_type="Payment", resource_id=result["id"],
                          client_id=data["client_id"])
        return result

    # --- from scheduling ----------------------------------------------------------------
    @handles(sched.APPOINTMENT_COMPLETED)
    def on_completed(self, event) -> None:
        with self.uow(handling=event) as uow:
            ledger.charge_session(uow, SYSTEM.actor, event.payload, config.get("BILLING_CURRENCY", "USD"))

    @handles(sched.APPOINTMENT_NO_SHOW)
    def on_no_show(self, event) -> None:
        with self.uow(handling=event) as uow:
            ledger.charge_fee(uow, SYSTEM.actor, event.payload, "no_show")

    @handles(sched.APPOINTMENT_CANCELLED)
    def on_cancelled(self, event) -> None:
        with self.uow(handling=event) as uow:
            if event.payload.get("late") and event.payload.get("cancelled_by") == "client":
                ledger.charge_fee(uow, SYSTEM.actor, event.payload, "late_cancel")
            # (a timely cancellation, or one by the clinic, costs nothing)

    @rpc
    def health(self) -> dict[str, Any]:
        with self.uow() as uow:
            uow.session.connection().execute(select(1))
        return {"status": "ok"}
