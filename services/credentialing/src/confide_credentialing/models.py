"""The credentialing service's tables. A licence cannot be active without a
primary-source verification, and cannot expire before it is issued: the
database holds both rules (CHECK constraints), not only the service."""

from __future__ import annotations

from confide_messaging import add_messaging_tables
from confide_persistence import make_metadata
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import UUID

metadata = make_metadata()
VERSION_TABLE = "alembic_version_credentialing"

ID = String(200)

clinicians = Table(
    "clinicians",
    metadata,
    Column("id", ID, primary_key=True),  # the clinician's user id, as other services know them
    Column("given_name", String(200), nullable=False),
    Column("family_name", String(200), nullable=False),
    Column("national_id", String(10), unique=True),  # NPI
    Column("home_site_id", ID, nullable=False),
    Column("email", String(320)),
    Column("created_by", ID, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

licenses = Table(
    "licenses",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("clinician_id", ID, ForeignKey("clinicians.id"), nullable=False, index=True),
    Column("type", String(40), nullable=False),
    Column("jurisdiction", String(8), nullable=False),
    Column("number", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_reason", String(500)),
    Column("issued_on", Date, nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("verified_at", DateTime(timezone=True)),
    Column("verified_by", ID),
    Column("verification_source", String(300)),
    Column("created_by", ID, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("type", "jurisdiction", "number", name="uq_licenses_type_jurisdiction_number"),
    CheckConstraint("status IN ('pending', 'active', 'expired', 'suspended', 'revoked')", name="status"),
    CheckConstraint("status <> 'active' OR verified_at IS NOT NULL", name="active_needs_verification"),
    CheckConstraint("expires_on > issued_on", name="expires_after_issue"),
)
Index("ix_licenses_expires_on", licenses.c.expires_on)

verifications = Table(
    "verifications",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("license_id", UUID(as_uuid=True), ForeignKey("licenses.id"), nullable=False, index=True),
    Column("verified_by", ID, nullable=False),
    Column("verified_at", DateTime(timezone=True), nullable=False),
    Column("source", String(300), nullable=False),
    Column("reference", String(200)),
    Column("result", String(16), nullable=False),
    Column("note", String(1000)),
    CheckConstraint("result IN ('verified', 'discrepancy', 'not_found')", name="result"),
)

supervisions = Table(
    "supervisions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("supervisor_id", ID, ForeignKey("clinicians.id"), nullable=False, index=True),
    Column("supervisee_id", ID, ForeignKey("clinicians.id"), nullable=False, index=True),
    Column("jurisdiction", String(8), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date),
    Column("created_by", ID, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("supervisor_id <> supervisee_id", name="not_self"),
    CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
)

# One row per notice sent: the key makes each notice once-only, however often
# the timer runs and however many replicas run it; a renewal (new expiry date)
# starts a fresh series.
expiry_notices = Table(
    "expiry_notices",
    metadata,
    Column("license_id", UUID(as_uuid=True), ForeignKey("licenses.id"), nullable=False),
    Column("notice", String(8), nullable=False),  # 90 | 30 | 7 | expired
    Column("expires_on", Date, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("license_id", "notice", "expires_on", name="pk_expiry_notices"),
)

add_messaging_tables(metadata)
