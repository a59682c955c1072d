"""The gateway's one table: POSTs made with an Idempotency-Key -- what was
asked (its digest), how it was answered (status) and what it made (the
resource's id); never the answer itself, which may hold client data."""

from __future__ import annotations

from confide_persistence import make_metadata
from sqlalchemy import Column, DateTime, PrimaryKeyConstraint, SmallInteger, String, Table, func

metadata = make_metadata()
VERSION_TABLE = "alembic_version_gateway"

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", String(200), nullable=False),
    Column("key", String(200), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(500), nullable=False),
    Column("request_sha256", String(64), nullable=False),
    Column("status", SmallInteger),  # NULL while the first request is still running
    Column("resource_id", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
    PrimaryKeyConstraint("user_id", "key", name="pk_idempotency_keys"),
)
