"""billing: fee schedules, sliding scale, site policies, accounts, charges (once
each), unbilled sessions, invoices, payments and allocations, billing providers,
projections of clinicians and supervisions, claims, outbox and inbox

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from confide_messaging.migrations import create_messaging_tables
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("payer", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=80), nullable=True),
        sa.Column("annual_income_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "billing_providers",
        sa.Column("site_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("npi", sa.String(length=10), nullable=False),
        sa.Column("tax_id", sa.String(length=10), nullable=False),
        sa.Column("address", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_billing_providers")),
    )
    op.create_table(
        "claims",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("appointment_id", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("payer", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), nullable=True),
        sa.Column("denial_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('ready', 'submitted', 'paid', 'denied')", name=op.f("ck_claims_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        sa.UniqueConstraint("appointment_id", "client_id", name="uq_claims_appointment_client"),
    )
    op.create_index(op.f("ix_claims_client_id"), "claims", ["client_id"], unique=False)
    op.create_table(
        "clinicians",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("npi", sa.String(length=10), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinicians")),
    )
    op.create_table(
        "fee_schedules",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("site_id", sa.String(length=200), nullable=False),
        sa.Column("payer", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_fee_schedules_amount")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_schedules")),
    )
    op.create_index(
        "ix_fee_schedules_lookup", "fee_schedules", ["site_id", "payer", "code", "effective_from"], unique=False
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
    )
    op.create_index(op.f("ix_invoices_client_id"), "invoices", ["client_id"], unique=False)
    op.create_table(
        "payments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('payment', 'refund')", name=op.f("ck_payments_kind")),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payments_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    op.create_index(op.f("ix_payments_client_id"), "payments", ["client_id"], unique=False)
    op.create_table(
        "site_policies",
        sa.Column("site_id", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("no_show_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("late_cancel_fee_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("no_show_fee_minor >= 0 AND late_cancel_fee_minor >= 0", name=op.f("ck_site_policies_fees")),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_site_policies")),
    )
    op.create_table(
        "sliding_scale",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("site_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("max_income_minor", sa.BigInteger(), nullable=False),
        sa.Column("percent", sa.SmallInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.CheckConstraint("percent BETWEEN 0 AND 100", name=op.f("ck_sliding_scale_percent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sliding_scale")),
    )
    op.create_index(op.f("ix_sliding_scale_site_id"), "sliding_scale", ["site_id"], unique=False)
    op.create_table(
        "supervisions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("supervisor_id", sa.String(length=200), nullable=False),
        sa.Column("supervisee_id", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervisions")),
    )
    op.create_index(op.f("ix_supervisions_supervisee_id"), "supervisions", ["supervisee_id"], unique=False)
    op.create_table(
        "unbilled",
        sa.Column("appointment_id", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("appointment_id", "client_id", name=op.f("pk_unbilled")),
    )
    op.create_table(
        "allocations",
        sa.Column("payment_id", sa.UUID(), nullable=False),
        sa.Column("invoice_id", sa.UUID(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_allocations_positive")),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_allocations_invoice_id_invoices")),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_allocations_payment_id_payments")),
        sa.PrimaryKeyConstraint("payment_id", "invoice_id", name=op.f("pk_allocations")),
    )
    op.create_table(
        "charges",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("appointment_id", sa.String(length=200), nullable=True),
        sa.Column("site_id", sa.String(length=200), nullable=False),
        sa.Column("clinician_id", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=5), nullable=True),
        sa.Column("units", sa.SmallInteger(), nullable=False),
        sa.Column("modifiers", postgresql.ARRAY(sa.String(length=2)), nullable=False),
        sa.Column("place_of_service", sa.String(length=2), nullable=True),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("full_fee_minor", sa.BigInteger(), nullable=True),
        sa.Column("sliding_tier", sa.String(length=64), nullable=True),
        sa.Column("reverses_id", sa.UUID(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("invoice_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(kind = 'reversal') = (reverses_id IS NOT NULL)", name=op.f("ck_charges_reversal_names_its_charge")
        ),
        sa.CheckConstraint("kind IN ('service', 'no_show', 'late_cancel', 'reversal')", name=op.f("ck_charges_kind")),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_charges_invoice_id_invoices")),
        sa.ForeignKeyConstraint(["reverses_id"], ["charges.id"], name=op.f("fk_charges_reverses_id_charges")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charges")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_charges_reverses_id")),
    )
    op.create_index(op.f("ix_charges_client_id"), "charges", ["client_id"], unique=False)
    op.create_index(
        "uq_charges_once",
        "charges",
        ["appointment_id", "client_id", "kind", "code"],
        unique=True,
        postgresql_where=sa.text("kind != 'reversal'"),
        postgresql_nulls_not_distinct=True,
    )
    create_messaging_tables()


def downgrade() -> None:
    op.drop_index(
        "uq_charges_once",
        table_name="charges",
        postgresql_where=sa.text("kind != 'reversal'"),
        postgresql_nulls_not_distinct=True,
    )
    op.drop_index(op.f("ix_charges_client_id"), table_name="charges")
    op.drop_table("charges")
    op.drop_table("allocations")
    op.drop_table("unbilled")
    op.drop_index(op.f("ix_supervisions_supervisee_id"), table_name="supervisions")
    op.drop_table("supervisions")
    op.drop_index(op.f("ix_sliding_scale_site_id"), table_name="sliding_scale")
    op.drop_table("sliding_scale")
    op.drop_table("site_policies")
    op.drop_index(op.f("ix_payments_client_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_index("ix_outbox_unsent", table_name="outbox", postgresql_where=sa.text("sent_at IS NULL"))
    op.drop_table("outbox")
    op.drop_index(op.f("ix_invoices_client_id"), table_name="invoices")
    op.drop_table("invoices")
    op.drop_table("inbox")
    op.drop_index("ix_fee_schedules_lookup", table_name="fee_schedules")
    op.drop_table("fee_schedules")
    op.drop_table("clinicians")
    op.drop_index(op.f("ix_claims_client_id"), table_name="claims")
    op.drop_table("claims")
    op.drop_table("billing_providers")
    op.drop_table("accounts")
