"""append-only audit log: entries (partitioned by month), chain heads, tiles,
checkpoints, legal holds, outbox and inbox; triggers that refuse change

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

APPEND_ONLY = ("audit_entries", "audit_ingested", "audit_batches", "audit_tiles",
               "audit_checkpoints", "audit_legal_holds")


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("chain", sa.SmallInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("producer", sa.String(64), nullable=False),
        sa.Column("actor_id", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(64), nullable=False),
        sa.Column("on_behalf_of", sa.String(200), nullable=True),
        sa.Column("site_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("resource_id", sa.String(200), nullable=True),
        sa.Column("client_id", sa.String(200), nullable=True),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("break_glass", sa.Boolean(), nullable=False),
        sa.Column("break_glass_reason", sa.String(1000), nullable=True),
        sa.Column("source_address", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("recipient", sa.String(300), nullable=True),
        sa.Column("trace_id", sa.String(32), nullable=True),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.Column("chain_hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("chain", "seq", "occurred_at", name=op.f("pk_audit_entries")),
        postgresql_partition_by="RANGE (occurred_at)",
    )
    op.create_index("ix_audit_entries_client", "audit_entries", ["client_id", "occurred_at"])
    op.create_index("ix_audit_entries_actor", "audit_entries", ["actor_id", "occurred_at"])
    op.create_index("ix_audit_entries_resource", "audit_entries", ["resource_type", "resource_id"])
    op.create_index("ix_audit_entries_site", "audit_entries", ["site_id", "occurred_at"])
    op.create_index("ix_audit_entries_occurred", "audit_entries", ["occurred_at"])
    op.create_table(
        "audit_ingested",
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("chain", sa.SmallInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_ingested")),
    )
    op.create_table(
        "audit_batches",
        sa.Column("chain", sa.SmallInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chain_hash", sa.LargeBinary(), nullable=False),
        sa.Column("frontier", postgresql.ARRAY(sa.LargeBinary()), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("chain", "size", name=op.f("pk_audit_batches")),
    )
    op.create_table(
        "audit_tiles",
        sa.Column("chain", sa.SmallInteger(), nullable=False),
        sa.Column("width", sa.BigInteger(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("chain", "width", "start", name=op.f("pk_audit_tiles")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("chain", sa.SmallInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("key_version", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("chain", "size", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_legal_holds",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("placed_by", sa.String(200), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_legal_holds")),
    )
    create_messaging_tables()

    op.execute("""
        CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END $$
    """)
    for table in APPEND_ONLY:
        op.execute(f"""
            CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()
        """)
        op.execute(f"""
            CREATE TRIGGER {table}_no_statement BEFORE UPDATE OR DELETE OR TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()
        """)
    # Monthly partitions, made on demand by the ingesting service (which may not
    # create tables itself: the function runs with its owner's rights). Each
    # partition gets its own statement guard, which the parent's does not cover
    # (row guards are inherited). Statement guards fire even when no row matches.
    op.execute("""
        CREATE FUNCTION audit_ensure_partition(month date) RETURNS text
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
        DECLARE
            first date := date_trunc('month', month)::date;
            name text := format('audit_entries_y%sm%s', to_char(first, 'YYYY'), to_char(first, 'MM'));
        BEGIN
            -- chains ingest side by side: one of them creates the month's partition
            PERFORM pg_advisory_xact_lock(8675310, hashtext(name));
            IF to_regclass(name) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF audit_entries FOR VALUES FROM (%L) TO (%L)',
                    name, first, (first + interval '1 month')::date);
                EXECUTE format(
                    'CREATE TRIGGER %I BEFORE UPDATE OR DELETE OR TRUNCATE ON %I FOR EACH STATEMENT '
                    'EXECUTE FUNCTION audit_refuse_change()', name || '_no_statement', name);
            END IF;
            RETURN name;
        END $$
    """)


def downgrade() -> None:
    raise RuntimeError("the audit log is never downgraded")
