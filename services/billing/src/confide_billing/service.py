"""The billing service's entrypoints.

Charges come from scheduling's events -- ``completed`` (coded from the
psychotherapy code table), ``no_show`` and late ``cancelled`` (the site's fees)
-- each exactly once however often the event arrives (the inbox, and a unique
index on appointment, client, kind and code). Every read of a client's billing
data is access-recorded; every change is too.
"""

from __future__ import annotations

from typing import Any

import confide_contracts  # noqa: F401 - registers the event schemas used here
from confide_access import (
    Action,
    Caller,
    CallerSchema,
    InvalidRequest,
    deny,
    load,
    parse_id,
    record_access,
)
from confide_contracts import credentialing as cred
from confide_contracts import scheduling as sched
from confide_contracts.errors import EXPECTED, NotFound
from confide_contracts.projections import SUPERVISION_EVENTS, apply_supervision
from confide_messaging import OutboxRelayRunner, UnitOfWorkProvider, handles
from confide_persistence import plain
from nameko import config
from nameko.rpc import ServiceRpc, rpc
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from confide_billing import ledger
from confide_billing import models as m
from confide_billing.domain.claims import build_claim, validate_claim
from confide_billing.schemas import (
    AccountSchema,
    BillingProviderSchema,
    ClaimResultSchema,
    FeeSchema,
    InvoiceRequestSchema,
    PaymentSchema,
    PolicySchema,
    ScaleSchema,
)
from confide_billing.schemas import InvoiceRequestSchema as PeriodSchema

BILLING_STAFF = ("biller", "front_desk", "admin")
SYSTEM = CallerSchema().load({"user_id": "billing.charges", "role": "system", "purpose": "payment"})


class BillingService:
    name = "billing"

    uow = UnitOfWorkProvider()
    relay = OutboxRelayRunner()
    records = ServiceRpc("records")  # diagnoses, read as the caller (records records the access)

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
                raise NotFound(f"no billing account for {client_id}")
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
        cid = parse_id(charge_id, "charge_id")
        with self.uow() as uow:
            rid = ledger.reverse(uow, who.actor, cid, reason)
            row = uow.session.execute(select(m.charges).where(m.charges.c.id == rid)).first()
            record_access(uow, who, action=Action.UPDATE, resource_type="Charge", resource_id=str(cid),
                          client_id=row.client_id)
            return plain(row)

    @rpc(expected_exceptions=EXPECTED)
    def issue_invoice(self, caller: dict, request: dict) -> dict[str, Any]:
        data = load(InvoiceRequestSchema(), request)
        who = self._staff(caller, ("biller", "admin"), "issue invoices", data["client_id"])
        with self.uow() as uow:
            invoice = ledger.issue_invoice(uow, who.actor, data["client_id"], data["period_start"],
                                           data["period_end"])
            record_access(uow, who, action=Action.CREATE, resource_type="Invoice",
                          resource_id=invoice["id"] if invoice else None, client_id=data["client_id"])
        if invoice is None:  # (the look at the client's charges is recorded all the same)
            raise InvalidRequest({"period_start": ["no open charges for this client in this period"]})
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

    # --- claims and superbills ------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def set_billing_provider(self, caller: dict, provider: dict) -> dict[str, Any]:
        data = load(BillingProviderSchema(), provider)
        self._staff(caller, ("admin",), "set the billing provider")
        with self.uow() as uow:
            statement = pg_insert(m.billing_providers).values(**data)
            uow.session.execute(statement.on_conflict_do_update(index_elements=["site_id"], set_=data))
        return data

    def _diagnoses(self, caller: dict, client_id: str) -> list[str]:
        """Active diagnosis codes from records, asked as the caller: records
        decides and records the access."""
        return [d["code"] for d in self.records.list_diagnoses(caller, client_id)
                if d["status"] in ("active", "provisional")]

    def _person(self, conn, clinician_id: str | None) -> dict | None:
        if clinician_id is None:
            return None
        row = conn.execute(select(m.clinicians).where(m.clinicians.c.id == clinician_id)).first()
        if row is None:
            return {"id": clinician_id, "name": None, "npi": None}
        return {"id": row.id, "name": f"{row.family_name}, {row.given_name}", "npi": row.npi}

    def _supervisor(self, conn, clinician_id: str, on) -> str | None:
        s = m.supervisions
        return conn.execute(select(s.c.supervisor_id).where(
            s.c.supervisee_id == clinician_id, s.c.starts_on <= on, or_(s.c.ends_on.is_(None), s.c.ends_on >= on))
            .order_by(s.c.starts_on.desc()).limit(1)).scalar()

    @staticmethod
    def _billed_lines(conn, client_id: str, appointment_id: str | None = None, period=None) -> list:
        """Service charges not reversed."""
        c = m.charges
        reversed_ids = select(c.c.reverses_id).where(c.c.reverses_id.isnot(None))
        query = select(c).where(c.c.client_id == client_id, c.c.kind == "service", c.c.id.notin_(reversed_ids))
        if appointment_id:
            query = query.where(c.c.appointment_id == appointment_id)
        if period:
            query = query.where(c.c.service_date >= period[0], c.c.service_date <= period[1])
        return conn.execute(query.order_by(c.c.service_date, c.c.created_at)).all()

    @rpc(expected_exceptions=EXPECTED)
    def create_claim(self, caller: dict, appointment_id: str, client_id: str) -> dict[str, Any]:
        """An 837P-shaped claim for one session of an insured client, validated
        before it is kept; a pre-licensed clinician's session names the
        supervisor credentialing records for its date."""
        who = self._staff(caller, ("biller", "admin"), "create claims", client_id)
        diagnoses = self._diagnoses(caller, client_id)
        with self.uow() as uow:
            conn = uow.session.connection()
            acct = conn.execute(select(m.accounts).where(m.accounts.c.client_id == client_id)).first()
            if acct is None:
                raise NotFound(f"no billing account for {client_id}")
            lines = self._billed_lines(conn, client_id, appointment_id)
            if not lines:
                raise InvalidRequest({"appointment_id": ["has no charges for this client to claim"]})
            provider = conn.execute(select(m.billing_providers).where(
                m.billing_providers.c.site_id == lines[0].site_id)).first()
            if provider is None:
                raise InvalidRequest({"billing_provider": [f"none set for site {lines[0].site_id}"]})
            supervisor = self._supervisor(conn, lines[0].clinician_id, lines[0].service_date)
            claim_id = ledger.new_id()
            doc = build_claim(
                claim_id=str(claim_id), billing_provider=plain(provider), payer=acct.payer, member_id=acct.member_id,
                client_id=client_id, rendering=self._person(conn, lines[0].clinician_id),
                supervising=self._person(conn, supervisor), diagnoses=diagnoses,
                lines=[{**plain(line), "modifiers": list(line.modifiers)} for line in lines],
                currency=lines[0].currency)
            errors = validate_claim(doc)
            if errors:
                raise InvalidRequest(errors)
            try:
                with conn.begin_nested():
                    conn.execute(insert(m.claims).values(
                        id=claim_id, appointment_id=appointment_id, client_id=client_id, payer=acct.payer,
                        status="ready", document=doc, total_minor=doc["total_charge_minor"], currency=doc["currency"]))
            except Exception as exc:
                if "uq_claims_appointment_client" in str(exc):
                    raise InvalidRequest({"appointment_id": ["already has a claim for this client"]}) from None
                raise
            record_access(uow, who, action=Action.CREATE, resource_type="Claim", resource_id=str(claim_id),
                          client_id=client_id)
        return {"id": str(claim_id), "status": "ready", "document": doc}

    @rpc(expected_exceptions=EXPECTED)
    def update_claim(self, caller: dict, claim_id: str, result: dict) -> dict[str, Any]:
        """Track a claim: ``submitted``, then ``paid`` (the payer's payment goes to
        the client's account) or ``denied`` with the payer's reason."""
        data = load(ClaimResultSchema(), result)
        who = self._staff(caller, ("biller", "admin"), "track claims")
        kid = parse_id(claim_id, "claim_id")
        allowed = {"submitted": ("ready",), "paid": ("submitted",), "denied": ("submitted",)}
        with self.uow() as uow:
            conn = uow.session.connection()
            row = conn.execute(select(m.claims).where(m.claims.c.id == kid).with_for_update()).first()
            if row is None:
                raise NotFound(f"no claim {claim_id}")
            if row.status not in allowed[data["status"]]:
                raise InvalidRequest({"status": [f"a {row.status} claim cannot become {data['status']}"]})
            values = {"status": data["status"], "updated_at": ledger.now()}
            if data["status"] == "paid":
                values["paid_minor"] = data["paid_minor"]
                ledger.record_payment(uow, who.actor, row.client_id, data["paid_minor"], row.currency, "insurer",
                                      f"claim {kid}")
            if data["status"] == "denied":
                values["denial_reason"] = data["reason"]
            conn.execute(update(m.claims).where(m.claims.c.id == kid).values(**values))
            record_access(uow, who, action=Action.UPDATE, resource_type="Claim", resource_id=str(kid),
                          client_id=row.client_id)
            return {k: v for k, v in plain(conn.execute(select(m.claims).where(m.claims.c.id == kid)).first())
                    .items() if k != "document"}

    @rpc(expected_exceptions=EXPECTED)
    def superbill(self, caller: dict, request: dict) -> dict[str, Any]:
        """For a client who claims from their insurer themself: provider,
        diagnoses (from records), sessions with codes and fees, and what was paid."""
        data = load(PeriodSchema(), request)
        client_id = data["client_id"]
        who = self._staff(caller, BILLING_STAFF, "read billing data", client_id)
        diagnoses = self._diagnoses(caller, client_id)
        with self.uow() as uow:
            conn = uow.session.connection()
            lines = self._billed_lines(conn, client_id, period=(data["period_start"], data["period_end"]))
            if not lines:
                raise InvalidRequest({"period_start": ["no sessions billed in this period"]})
            provider = conn.execute(select(m.billing_providers).where(
                m.billing_providers.c.site_id == lines[0].site_id)).first()
            p = m.payments
            paid = conn.execute(select(p).where(p.c.client_id == client_id, p.c.kind == "payment")).all()
            result = {
                "client_id": client_id, "period_start": data["period_start"].isoformat(),
                "period_end": data["period_end"].isoformat(),
                "provider": plain(provider) if provider else None,
                "diagnoses": diagnoses,
                "sessions": [{"date": line.service_date.isoformat(), "code": line.code, "modifiers": line.modifiers,
                              "units": line.units, "place_of_service": line.place_of_service,
                              "rendering": self._person(conn, line.clinician_id),
                              "fee_minor": line.amount_minor} for line in lines],
                "total_minor": sum(line.amount_minor for line in lines),
                "paid_minor": sum(r.amount_minor for r in paid),
                "currency": lines[0].currency,
            }
            record_access(uow, who, action=Action.EXPORT, resource_type="Superbill", resource_id=client_id,
                          client_id=client_id)
        return result

    # --- from credentialing ---------------------------------------------------------------
    @handles(cred.CLINICIAN_REGISTERED)
    def on_clinician(self, event) -> None:
        p = event.payload
        values = {"given_name": p["given_name"], "family_name": p["family_name"], "npi": p.get("national_id")}
        with self.uow(handling=event) as uow:
            statement = pg_insert(m.clinicians).values(id=p["clinician_id"], **values)
            uow.session.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))

    @handles(*SUPERVISION_EVENTS)
    def on_supervision(self, event) -> None:
        """Who supervised whom when, for claims' supervising provider."""
        with self.uow(handling=event) as uow:
            apply_supervision(uow.session.connection(), m.supervisions, event.payload)

    @rpc
    def health(self) -> dict[str, Any]:
        with self.uow() as uow:
            uow.session.connection().execute(select(1))
        return {"status": "ok"}
