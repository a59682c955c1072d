"""The witness's tables: for each log it witnesses, the latest checkpoint it
cosigned (moved only forward, under a row lock, before it answers); and the
evidence of every log-signed request it refused for inconsistency."""

from __future__ import annotations

from confide_persistence import make_metadata
from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, String, Table, Text, func
from sqlalchemy.dialects.postgresql import UUID

metadata = make_metadata()
VERSION_TABLE = "alembic_version_witness"

latest = Table(
    "latest",
    metadata,
    Column("origin", String(500), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),  # the checkpoint as the log signed it, with our cosignature
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

evidence = Table(
    "evidence",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("origin", String(500), nullable=False, index=True),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("status", Integer, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("request", Text, nullable=False),  # the whole request, the log's signature included
)
