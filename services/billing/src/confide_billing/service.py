"""The billing service's entrypoints: a table of contents.

Charges come from scheduling's events -- ``completed`` (coded from the
psychotherapy code table), ``no_show`` and late ``cancelled`` (the site's fees)
-- each exactly once however often the event arrives (the inbox, and a unique
index on appointment, client, kind and code). Every read of a client's billing
data is access-recorded; every change is too. Who may do what is
``domain/policy.py``; the use cases are ``prices``, ``accounts``, ``ledger`` and
``claims``; the SQL is ``store``.
"""

from __future__ import annotations

from typing import Any

import confide_contracts  # noqa: F401 - registers the event schemas used here
from confide_access import Action, Caller, CallerSchema, enforce, load, open_rpc, parse_id, rpc
from confide_contracts import credentialing as cred
from confide_contracts import records as rec
from confide_contracts import scheduling as sched
from confide_contracts.errors import EXPECTED, invalid
from confide_contracts.projections import (
    LOGIN_EVENTS,
    SUPERVISION_EVENTS,
    apply_login_link,
    apply_supervision,
    own_record,
)
from confide_contracts.rpc.billing import (
    AccountListSchema,
    AccountSchema,
    BillingProviderSchema,
    ClaimListSchema,
    ClaimRequestSchema,
    ClaimResultSchema,
    FeeEndSchema,
    FeeListSchema,
    FeeSchema,
    InvoiceListSchema,
    InvoiceRequestSchema,
    PaymentListSchema,
    PaymentSchema,
    PolicySchema,
    ScaleSchema,
)
from confide_contracts.rpc.billing import InvoiceRequestSchema as PeriodSchema
from confide_messaging import OutboxRelayRunner, UnitOfWorkProvider, handles
from confide_messaging.rpc import ServiceRpc
from nameko import config

from confide_billing import accounts, claims, ledger, listing, prices, store
from confide_billing import models as m
from confide_billing.access import permitted, permitted_on
from confide_billing.domain import policy as p
from confide_billing.domain.policy import Task

SYSTEM = CallerSchema().load({"user_id": "billing.charges", "role": "system", "purpose": "payment"})
CLAIMABLE_DIAGNOSES = ("active", "provisional")


class BillingService:
    name = "billing"

    uow = UnitOfWorkProvider()
    relay = OutboxRelayRunner()
    records = ServiceRpc("records")  # diagnoses, read as the caller (records records the access)

    def _may(self, caller: Caller, task: Task, client_id: str | None = None, site_id: str | None = None) -> Caller:
        return permitted(self.uow, caller, task, client_id, site_id)

    # --- price lists ---------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def set_fee(self, caller: Caller, fee: dict) -> dict[str, Any]:
        """A price for a code at a site for a payer (``self_pay`` or a payer id), from a date."""
        data = load(FeeSchema(), fee)
        self._may(caller, Task.SET_FEES, site_id=data["site_id"])
        with self.uow() as uow:
            fee_id = prices.set_fee(uow, data)
        return {"id": str(fee_id), **FeeSchema().dump(data)}

    @rpc(expected_exceptions=EXPECTED)
    def end_fee(self, caller: Caller, fee_id: str, effective_until: str) -> dict[str, Any]:
        """A fee applies up to a date (inclusive), no longer."""
        data = load(FeeEndSchema(), {"effective_until": effective_until})
        fid = parse_id(fee_id, "fee_id")
        with self.uow() as uow:
            self._may(caller, Task.SET_FEES, site_id=prices.fee_site(uow, fid))
            return prices.end_fee(uow, fid, data["effective_until"])

    @rpc(expected_exceptions=EXPECTED)
    def remove_fee(self, caller: Caller, fee_id: str) -> dict[str, Any]:
        """Withdraw a fee not yet in force (one in force is ended instead)."""
        fid = parse_id(fee_id, "fee_id")
        with self.uow() as uow:
            self._may(caller, Task.SET_FEES, site_id=prices.fee_site(uow, fid))
            prices.remove_fee(uow, fid)
        return {"id": str(fid), "removed": True}

    @rpc(expected_exceptions=EXPECTED)
    def set_sliding_scale(self, caller: Caller, scale: dict) -> list[dict[str, Any]]:
        """Replace a site's income tiers for self-pay clients."""
        data = load(ScaleSchema(), scale)
        self._may(caller, Task.SET_SCALE, site_id=data["site_id"])
        with self.uow() as uow:
            prices.set_sliding_scale(uow, data)
        return data["tiers"]

    @rpc(expected_exceptions=EXPECTED)
    def set_site_policy(self, caller: Caller, policy: dict) -> dict[str, Any]:
        """The site's no-show and late-cancellation fees."""
        data = load(PolicySchema(), policy)
        self._may(caller, Task.SET_SITE_FEES, site_id=data["site_id"])
        with self.uow() as uow:
            prices.set_site_policy(uow, data)
        return data

    @rpc(expected_exceptions=EXPECTED)
    def set_billing_provider(self, caller: Caller, provider: dict) -> dict[str, Any]:
        data = load(BillingProviderSchema(), provider)
        self._may(caller, Task.SET_PROVIDER, site_id=data["site_id"])
        with self.uow() as uow:
            prices.set_billing_provider(uow, data)
        return data

    # --- accounts ------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def open_account(self, caller: Caller, account: dict) -> dict[str, Any]:
        """Who pays for the client (``self_pay`` or a payer with the member id),
        and household income for the sliding scale."""
        data = load(AccountSchema(), account)
        who = self._may(caller, Task.CHANGE_ACCOUNTS, data["client_id"])
        with self.uow() as uow:
            accounts.open_account(uow, who, data)
        return data

    @rpc(expected_exceptions=EXPECTED)
    def statement(self, caller: Caller, client_id: str) -> dict[str, Any]:
        """The client's charges, invoices (with what is still owed), payments and balance."""
        who = self._may(caller, Task.READ, client_id)
        with self.uow() as uow:
            return accounts.statement(uow, who, client_id)

    # --- lists (each entry naming a client is an access recorded for them) --------------
    def _list(self, caller: Caller, task: Task, schema, query: dict, lister) -> dict[str, Any]:
        q = load(schema, query)
        who = self._may(caller, task, q.get("client_id"), None if q.get("client_id") else q["site_id"])
        with self.uow() as uow:
            return lister(uow, who, q)

    @rpc(expected_exceptions=EXPECTED)
    def list_invoices(self, caller: Caller, query: dict) -> dict[str, Any]:
        return self._list(caller, Task.READ, InvoiceListSchema(), query, listing.invoices)

    @rpc(expected_exceptions=EXPECTED)
    def list_payments(self, caller: Caller, query: dict) -> dict[str, Any]:
        return self._list(caller, Task.READ, PaymentListSchema(), query, listing.payments)

    @rpc(expected_exceptions=EXPECTED)
    def list_claims(self, caller: Caller, query: dict) -> dict[str, Any]:
        return self._list(caller, Task.TRACK_CLAIMS, ClaimListSchema(), query, listing.claims)

    @rpc(expected_exceptions=EXPECTED)
    def list_accounts(self, caller: Caller, query: dict) -> dict[str, Any]:
        return self._list(caller, Task.READ, AccountListSchema(), query, listing.accounts)

    @rpc(expected_exceptions=EXPECTED)
    def list_fees(self, caller: Caller, query: dict) -> dict[str, Any]:
        return self._list(caller, Task.READ, FeeListSchema(), query, listing.fees)

    @rpc(expected_exceptions=EXPECTED)
    def my_statement(self, caller: Caller) -> dict[str, Any]:
        """A client's own statement: charges (late-cancel and no-show fees among them), invoices with what is
        still owed, payments and the balance."""
        with self.uow() as uow:
            record = own_record(uow.session.connection(), m.linked_logins, caller.user_id)
        enforce(self.uow, caller, p.may_see_own_books(caller, record), action=Action.READ, resource_type="Account",
                resource_id="my statement", client_id=record)
        with self.uow() as uow:
            return accounts.statement(uow, caller, record)

    # --- charges, invoices, payments ---------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def reverse_charge(self, caller: Caller, charge_id: str, reason: str) -> dict[str, Any]:
        """A correction: a charge of the opposite amount; the two net to zero."""
        if not isinstance(reason, str) or len(reason.strip()) < 2:
            raise invalid("reason", "say why the charge is reversed")
        cid = parse_id(charge_id, "charge_id")
        who = permitted_on(self.uow, caller, Task.REVERSE, charge_id=cid)
        with self.uow() as uow:
            return ledger.reverse_recorded(uow, who, cid, reason)

    @rpc(expected_exceptions=EXPECTED)
    def issue_invoice(self, caller: Caller, request: dict) -> dict[str, Any]:
        data = load(InvoiceRequestSchema(), request)
        who = self._may(caller, Task.INVOICE, data["client_id"])
        with self.uow() as uow:
            invoice = ledger.invoice_recorded(uow, who, data)
        if invoice is None:  # (the look at the client's charges is recorded all the same)
            raise invalid("period_start", "no open charges for this client in this period")
        return invoice

    @rpc(expected_exceptions=EXPECTED)
    def record_payment(self, caller: Caller, payment: dict) -> dict[str, Any]:
        """A payment, split over open invoices oldest first; any rest is a credit."""
        data = load(PaymentSchema(), payment)
        who = self._may(caller, Task.RECORD_PAYMENTS, data["client_id"])
        with self.uow() as uow:
            return ledger.payment_recorded(uow, who, data)

    @rpc(expected_exceptions=EXPECTED)
    def refund(self, caller: Caller, payment: dict) -> dict[str, Any]:
        """Pay back (part of) a credit."""
        data = load(PaymentSchema(), payment)
        who = self._may(caller, Task.REFUND, data["client_id"])
        with self.uow() as uow:
            return ledger.refund_recorded(uow, who, data)

    # --- claims and superbills ------------------------------------------------------------
    def _diagnoses(self, caller: Caller, client_id: str) -> list[str]:
        """Active diagnosis codes from records, asked as the caller (the gateway's
        assertion names records too): records decides and records the access."""
        return [d["code"] for d in self.records.list_diagnoses(caller.assertion, client_id)
                if d["status"] in CLAIMABLE_DIAGNOSES]

    @rpc(expected_exceptions=EXPECTED)
    def create_claim(self, caller: Caller, appointment_id: str, client_id: str) -> dict[str, Any]:
        """An 837P-shaped claim for one session of an insured client, validated
        before it is kept; a pre-licensed clinician's session names the
        supervisor credentialing records for its date."""
        data = load(ClaimRequestSchema(), {"appointment_id": appointment_id, "client_id": client_id})
        who = self._may(caller, Task.CLAIM, data["client_id"])
        diagnoses = self._diagnoses(caller, data["client_id"])
        with self.uow() as uow:
            return claims.create(uow, who, data["appointment_id"], data["client_id"], diagnoses)

    @rpc(expected_exceptions=EXPECTED)
    def update_claim(self, caller: Caller, claim_id: str, result: dict) -> dict[str, Any]:
        """Track a claim: ``submitted``, then ``paid`` (the payer's payment goes to
        the client's account) or ``denied`` with the payer's reason."""
        data = load(ClaimResultSchema(), result)
        kid = parse_id(claim_id, "claim_id")
        who = permitted_on(self.uow, caller, Task.TRACK_CLAIMS, claim_id=kid)
        with self.uow() as uow:
            return claims.track(uow, who, kid, data)

    @rpc(expected_exceptions=EXPECTED)
    def superbill(self, caller: Caller, request: dict) -> dict[str, Any]:
        """For a client who claims from their insurer themself: provider,
        diagnoses (from records), sessions with codes and fees, and what was paid."""
        data = load(PeriodSchema(), request)
        who = self._may(caller, Task.READ, data["client_id"])
        diagnoses = self._diagnoses(caller, data["client_id"])
        with self.uow() as uow:
            return claims.superbill(uow, who, data, diagnoses)

    # --- from scheduling ----------------------------------------------------------------
    @handles(*LOGIN_EVENTS)
    def on_login_linked(self, event) -> None:
        """Whose record a client's own login is (their statement is that record's)."""
        with self.uow(handling=event) as uow:
            apply_login_link(uow.session.connection(), m.linked_logins, event.payload)

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

    # --- from records and credentialing -----------------------------------------------------
    @handles(rec.CLIENT_REGISTERED)
    def on_client(self, event) -> None:
        """Each client's home site: whose books a caller may see."""
        with self.uow(handling=event) as uow:
            store.record_client(uow.session.connection(), event.payload["client_id"], event.payload["home_site_id"])

    @handles(cred.CLINICIAN_REGISTERED)
    def on_clinician(self, event) -> None:
        p = event.payload
        with self.uow(handling=event) as uow:
            store.upsert_clinician(uow.session.connection(), p["clinician_id"], p["given_name"], p["family_name"],
                                   p.get("national_id"))

    @handles(*SUPERVISION_EVENTS)
    def on_supervision(self, event) -> None:
        """Who supervised whom when, for claims' supervising provider."""
        with self.uow(handling=event) as uow:
            apply_supervision(uow.session.connection(), m.supervisions, event.payload)

    @open_rpc
    def health(self) -> dict[str, Any]:
        with self.uow() as uow:
            store.ping(uow.session.connection())
        return {"status": "ok"}
