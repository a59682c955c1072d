"""credentialing: clinicians, licences with verification, supervisions, expiry
notices, outbox and inbox

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from confide_messaging.migrations import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clinicians",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("national_id", sa.String(length=10), nullable=True),
        sa.Column("home_site_id", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinicians")),
        sa.UniqueConstraint("national_id", name=op.f("uq_clinicians_national_id")),
    )
    op.create_table(
        "licenses",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("clinician_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_by", sa.String(length=200), nullable=True),
        sa.Column("verification_source", sa.String(length=300), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status <> 'active' OR verified_at IS NOT NULL", name=op.f("ck_licenses_active_needs_verification")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'active', 'expired', 'suspended', 'revoked')", name=op.f("ck_licenses_status")
        ),
        sa.CheckConstraint("expires_on > issued_on", name=op.f("ck_licenses_expires_after_issue")),
        sa.ForeignKeyConstraint(["clinician_id"], ["clinicians.id"], name=op.f("fk_licenses_clinician_id_clinicians")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licenses")),
        sa.UniqueConstraint("type", "jurisdiction", "number", name="uq_licenses_type_jurisdiction_number"),
    )
    op.create_index(op.f("ix_licenses_clinician_id"), "licenses", ["clinician_id"], unique=False)
    op.create_index("ix_licenses_expires_on", "licenses", ["expires_on"], unique=False)
    op.create_table(
        "supervisions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("supervisor_id", sa.String(length=200), nullable=False),
        sa.Column("supervisee_id", sa.String(length=200), nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name=op.f("ck_supervisions_ends_after_start")),
        sa.CheckConstraint("supervisor_id <> supervisee_id", name=op.f("ck_supervisions_not_self")),
        sa.ForeignKeyConstraint(
            ["supervisee_id"], ["clinicians.id"], name=op.f("fk_supervisions_supervisee_id_clinicians")
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"], ["clinicians.id"], name=op.f("fk_supervisions_supervisor_id_clinicians")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervisions")),
    )
    op.create_index(op.f("ix_supervisions_supervisee_id"), "supervisions", ["supervisee_id"], unique=False)
    op.create_index(op.f("ix_supervisions_supervisor_id"), "supervisions", ["supervisor_id"], unique=False)
    op.create_table(
        "expiry_notices",
        sa.Column("license_id", sa.UUID(), nullable=False),
        sa.Column("notice", sa.String(length=8), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["license_id"], ["licenses.id"], name=op.f("fk_expiry_notices_license_id_licenses")),
        sa.PrimaryKeyConstraint("license_id", "notice", "expires_on", name="pk_expiry_notices"),
    )
    op.create_table(
        "verifications",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("license_id", sa.UUID(), nullable=False),
        sa.Column("verified_by", sa.String(length=200), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.CheckConstraint("result IN ('verified', 'discrepancy', 'not_found')", name=op.f("ck_verifications_result")),
        sa.ForeignKeyConstraint(["license_id"], ["licenses.id"], name=op.f("fk_verifications_license_id_licenses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verifications")),
    )
    op.create_index(op.f("ix_verifications_license_id"), "verifications", ["license_id"], unique=False)
    create_messaging_tables()


def downgrade() -> None:
    op.drop_index(op.f("ix_verifications_license_id"), table_name="verifications")
    op.drop_table("verifications")
    op.drop_table("expiry_notices")
    op.drop_index(op.f("ix_supervisions_supervisor_id"), table_name="supervisions")
    op.drop_index(op.f("ix_supervisions_supervisee_id"), table_name="supervisions")
    op.drop_table("supervisions")
    op.drop_index("ix_licenses_expires_on", table_name="licenses")
    op.drop_index(op.f("ix_licenses_clinician_id"), table_name="licenses")
    op.drop_table("licenses")
    op.drop_index("ix_outbox_unsent", table_name="outbox", postgresql_where=sa.text("sent_at IS NULL"))
    op.drop_table("outbox")
    op.drop_table("inbox")
    op.drop_table("clinicians")
