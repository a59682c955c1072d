"""The outbox and inbox tables, added to each service's own ``MetaData`` so they
live in its database and its migrations."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID


def add_messaging_tables(metadata: MetaData) -> tuple[Table, Table]:
    outbox = Table(
        "outbox",
        metadata,
        Column("seq", BigInteger, Identity(always=True), primary_key=True),
        Column("id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("type", String(200), nullable=False),
        Column("message", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("sent_at", DateTime(timezone=True)),
        Column("publish_attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text),
    )
    Index("ix_outbox_unsent", outbox.c.seq, postgresql_where=outbox.c.sent_at.is_(None))
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(200), primary_key=True),
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    return outbox, inbox


# The same tables, for the library's own statements.
outbox_table, inbox_table = add_messaging_tables(MetaData())
