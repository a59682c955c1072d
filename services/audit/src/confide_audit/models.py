"""The audit service's tables. Every table here is append-only: the database
refuses UPDATE, DELETE and TRUNCATE (triggers, see the first migration), and the
service's users may only SELECT and INSERT (outbox excepted, for its relay)."""

from __future__ import annotations

from confide_contracts.projections import linked_logins_table
from confide_messaging import add_messaging_tables
from confide_persistence import make_metadata
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

metadata = make_metadata()
VERSION_TABLE = "alembic_version_audit"

entries = Table(
    "audit_entries",
    metadata,
    Column("chain", SmallInteger, primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("occurred_at", DateTime(timezone=True), primary_key=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("producer", String(64), nullable=False),
    Column("actor_id", String(200), nullable=False),
    Column("actor_role", String(64), nullable=False),
    Column("on_behalf_of", String(200)),
    Column("site_id", String(64)),
    Column("action", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("resource_type", String(64), nullable=False),
    Column("resource_id", String(200)),
    Column("client_id", String(200)),
    Column("purpose", String(32), nullable=False),
    Column("reason", String(500)),
    Column("break_glass", Boolean, nullable=False),
    Column("break_glass_reason", String(1000)),
    Column("source_address", String(64)),
    Column("user_agent", String(512)),
    Column("recipient", String(300)),
    Column("trace_id", String(32)),
    Column("leaf_hash", LargeBinary, nullable=False),
    Column("chain_hash", LargeBinary, nullable=False),
    postgresql_partition_by="RANGE (occurred_at)",
)
Index("ix_audit_entries_client", entries.c.client_id, entries.c.occurred_at)
Index("ix_audit_entries_actor", entries.c.actor_id, entries.c.occurred_at)
Index("ix_audit_entries_resource", entries.c.resource_type, entries.c.resource_id)
Index("ix_audit_entries_site", entries.c.site_id, entries.c.occurred_at)
Index("ix_audit_entries_occurred", entries.c.occurred_at)

# one row per ingested event: makes a redelivered event a no-op
ingested = Table(
    "audit_ingested",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("chain", SmallInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
)

# the head of each chain after each batch: size, last link, Merkle frontier
batches = Table(
    "audit_batches",
    metadata,
    Column("chain", SmallInteger, primary_key=True),
    Column("size", BigInteger, primary_key=True),
    Column("chain_hash", LargeBinary, nullable=False),
    Column("frontier", ARRAY(LargeBinary), nullable=False),
    Column("committed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# hashes of perfect subtrees of TILE_SIZE leaves (and TILE_SIZE**2), for proofs
tiles = Table(
    "audit_tiles",
    metadata,
    Column("chain", SmallInteger, primary_key=True),
    Column("width", BigInteger, primary_key=True),
    Column("start", BigInteger, primary_key=True),
    Column("hash", LargeBinary, nullable=False),
)

checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("chain", SmallInteger, primary_key=True),
    Column("size", BigInteger, primary_key=True),
    Column("root_hash", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("key_version", SmallInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# witnesses' cosignatures of checkpoints (C2SP tlog-cosignature): the signature line as the witness gave it
cosignatures = Table(
    "audit_cosignatures",
    metadata,
    Column("chain", SmallInteger, primary_key=True),
    Column("size", BigInteger, primary_key=True),
    Column("witness", String(200), primary_key=True),
    Column("line", Text, nullable=False),
    Column("cosigned_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# a person's own login linked to a client's record (records.login.linked): whose access report is whose
linked_logins = linked_logins_table(metadata, "audit_linked_logins")

legal_holds = Table(
    "audit_legal_holds",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", String(200)),
    Column("reason", String(500), nullable=False),
    Column("placed_by", String(200), nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_audit_legal_holds_client", legal_holds.c.client_id)

# a hold is released by a row here (the holds themselves never change)
legal_hold_releases = Table(
    "audit_legal_hold_releases",
    metadata,
    Column("hold_id", UUID(as_uuid=True), ForeignKey("audit_legal_holds.id"), primary_key=True),
    Column("reason", String(500), nullable=False),
    Column("released_by", String(200), nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# one row per purge of a chain's oldest entries: where the chain now starts,
# and the link and Merkle frontier that verification resumes from
purges = Table(
    "audit_purges",
    metadata,
    Column("chain", SmallInteger, primary_key=True),
    Column("first_seq", BigInteger, primary_key=True),
    Column("chain_hash", LargeBinary, nullable=False),
    Column("frontier", ARRAY(LargeBinary), nullable=False),
    Column("cutoff", DateTime(timezone=True), nullable=False),
    Column("purged", BigInteger, nullable=False),
    Column("purged_by", String(200), nullable=False),
    Column("purged_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

add_messaging_tables(metadata)

APPEND_ONLY_TABLES = ("audit_entries", "audit_ingested", "audit_batches", "audit_tiles",
                      "audit_checkpoints", "audit_cosignatures", "audit_linked_logins", "audit_legal_holds",
                      "audit_legal_hold_releases", "audit_purges")
