"""The billing service's tables. Money is integer minor units with its ISO 4217
currency, never a float."""

from __future__ import annotations

from confide_contracts.projections import linked_logins_table, supervisions_table
from confide_messaging import add_messaging_tables
from confide_persistence import make_metadata
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = make_metadata()
VERSION_TABLE = "alembic_version_billing"

ID = String(200)
MONEY = BigInteger
CURRENCY = String(3)


def created_at() -> Column:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


fee_schedules = Table(
    "fee_schedules",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("site_id", ID, nullable=False),
    Column("payer", String(64), nullable=False),  # "self_pay" or a payer id
    Column("code", String(5), nullable=False),
    Column("amount_minor", MONEY, nullable=False),
    Column("currency", CURRENCY, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("effective_until", Date),
    created_at(),
    CheckConstraint("amount_minor >= 0", name="amount"),
)
Index("ix_fee_schedules_lookup", fee_schedules.c.site_id, fee_schedules.c.payer, fee_schedules.c.code,
      fee_schedules.c.effective_from)

sliding_scale = Table(
    "sliding_scale",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("site_id", ID, nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("max_income_minor", MONEY, nullable=False),  # annual household income up to this
    Column("percent", SmallInteger, nullable=False),  # of the self-pay fee
    Column("currency", CURRENCY, nullable=False),
    CheckConstraint("percent BETWEEN 0 AND 100", name="percent"),
)

site_policies = Table(
    "site_policies",
    metadata,
    Column("site_id", ID, primary_key=True),
    Column("currency", CURRENCY, nullable=False),
    Column("no_show_fee_minor", MONEY, nullable=False),
    Column("late_cancel_fee_minor", MONEY, nullable=False),
    CheckConstraint("no_show_fee_minor >= 0 AND late_cancel_fee_minor >= 0", name="fees"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("client_id", ID, primary_key=True),
    Column("payer", String(64), nullable=False),
    Column("member_id", String(80)),
    Column("annual_income_minor", MONEY),
    Column("currency", CURRENCY, nullable=False),
    created_at(),
)

charges = Table(
    "charges",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", ID, nullable=False, index=True),
    Column("appointment_id", ID),
    Column("site_id", ID, nullable=False),
    Column("clinician_id", ID),  # who rendered the service
    Column("kind", String(16), nullable=False),  # service | no_show | late_cancel | reversal
    Column("code", String(5)),
    Column("units", SmallInteger, nullable=False),
    Column("modifiers", ARRAY(String(2)), nullable=False),
    Column("place_of_service", String(2)),
    Column("service_date", Date, nullable=False),
    Column("amount_minor", MONEY, nullable=False),
    Column("currency", CURRENCY, nullable=False),
    Column("full_fee_minor", MONEY),  # before the sliding scale
    Column("sliding_tier", String(64)),
    Column("reverses_id", UUID(as_uuid=True), ForeignKey("charges.id"), unique=True),
    Column("note", String(500)),
    Column("invoice_id", UUID(as_uuid=True), ForeignKey("invoices.id")),
    created_at(),
    CheckConstraint("kind IN ('service', 'no_show', 'late_cancel', 'reversal')", name="kind"),
    CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal_names_its_charge"),
)
# one charge per appointment, client, kind and code, however often an event arrives
Index("uq_charges_once", charges.c.appointment_id, charges.c.client_id, charges.c.kind, charges.c.code,
      unique=True, postgresql_where=charges.c.kind != "reversal", postgresql_nulls_not_distinct=True)

unbilled = Table(
    "unbilled",
    metadata,
    Column("appointment_id", ID, primary_key=True),
    Column("client_id", ID, primary_key=True),
    Column("reason", String(500), nullable=False),
    created_at(),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", ID, nullable=False, index=True),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("total_minor", MONEY, nullable=False),
    Column("currency", CURRENCY, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)

payments = Table(
    "payments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", ID, nullable=False, index=True),
    Column("kind", String(8), nullable=False),  # payment | refund
    Column("amount_minor", MONEY, nullable=False),
    Column("currency", CURRENCY, nullable=False),
    Column("method", String(32), nullable=False),
    Column("reference", String(100)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("amount_minor > 0", name="positive"),
    CheckConstraint("kind IN ('payment', 'refund')", name="kind"),
)

allocations = Table(
    "allocations",
    metadata,
    Column("payment_id", UUID(as_uuid=True), ForeignKey("payments.id"), primary_key=True),
    Column("invoice_id", UUID(as_uuid=True), ForeignKey("invoices.id"), primary_key=True),
    Column("amount_minor", MONEY, nullable=False),
    CheckConstraint("amount_minor > 0", name="positive"),
)

billing_providers = Table(
    "billing_providers",
    metadata,
    Column("site_id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("npi", String(10), nullable=False),
    Column("tax_id", String(10), nullable=False),
    Column("address", JSONB, nullable=False),
)

# projection of records' events: each client's home site, which scopes who may see their books
clients = Table(
    "clients",
    metadata,
    Column("id", ID, primary_key=True),
    Column("home_site_id", ID, nullable=False),
    created_at(),
)

# projections of credentialing's events: who renders and who supervises
clinicians = Table(
    "clinicians",
    metadata,
    Column("id", ID, primary_key=True),
    Column("given_name", String(200), nullable=False),
    Column("family_name", String(200), nullable=False),
    Column("npi", String(10)),
)

# projection of credentialing.supervision.* (credentialing is the authority)
supervisions = supervisions_table(metadata)
# projection of records.login.linked: whose record a client's own login is
linked_logins = linked_logins_table(metadata)

claims = Table(
    "claims",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("appointment_id", ID, nullable=False),
    Column("client_id", ID, nullable=False, index=True),
    Column("payer", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # ready | submitted | paid | denied
    Column("document", JSONB, nullable=False),
    Column("total_minor", MONEY, nullable=False),
    Column("currency", CURRENCY, nullable=False),
    Column("paid_minor", MONEY),
    Column("denial_reason", String(500)),
    created_at(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("appointment_id", "client_id", name="uq_claims_appointment_client"),
    CheckConstraint("status IN ('ready', 'submitted', 'paid', 'denied')", name="status"),
)

add_messaging_tables(metadata)
