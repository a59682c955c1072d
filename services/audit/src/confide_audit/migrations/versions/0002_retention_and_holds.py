"""retention: a purge horizon per chain, released legal holds; the database lets
an entry go only below a recorded horizon, past six years and under no hold

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# keep in step with confide_audit.domain.retention.RETENTION_DAYS
RETENTION_DAYS = 2196


def upgrade() -> None:
    op.create_table(
        "audit_purges",
        sa.Column("chain", sa.SmallInteger(), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("chain_hash", sa.LargeBinary(), nullable=False),
        sa.Column("frontier", postgresql.ARRAY(sa.LargeBinary()), nullable=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged", sa.BigInteger(), nullable=False),
        sa.Column("purged_by", sa.String(200), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("chain", "first_seq", name=op.f("pk_audit_purges")),
    )
    op.create_table(
        "audit_legal_hold_releases",
        sa.Column("hold_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("released_by", sa.String(200), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["hold_id"], ["audit_legal_holds.id"],
                                name=op.f("fk_audit_legal_hold_releases_hold_id_audit_legal_holds")),
        sa.PrimaryKeyConstraint("hold_id", name=op.f("pk_audit_legal_hold_releases")),
    )
    op.create_index("ix_audit_legal_holds_client", "audit_legal_holds", ["client_id"])
    for table in ("audit_purges", "audit_legal_hold_releases"):
        op.execute(f"""
            CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()
        """)
        op.execute(f"""
            CREATE TRIGGER {table}_no_statement BEFORE UPDATE OR DELETE OR TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()
        """)

    # An entry may be deleted only by a purge: in a transaction that says so
    # (confide.audit_purge), below the horizon the purge recorded first, past the
    # retention period by both its times, and with no legal hold on its client
    # or on everything. Anything else is refused, even for the table's owner.
    op.execute(f"""
        CREATE FUNCTION audit_entries_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE'
               AND current_setting('confide.audit_purge', true) = 'on'
               AND OLD.seq < (SELECT max(first_seq) FROM audit_purges WHERE chain = OLD.chain)
               AND OLD.occurred_at < now() - interval '{RETENTION_DAYS} days'
               AND OLD.recorded_at < now() - interval '{RETENTION_DAYS} days'
               AND NOT EXISTS (
                   SELECT 1 FROM audit_legal_holds h
                   WHERE (h.client_id IS NULL OR h.client_id = OLD.client_id)
                     AND NOT EXISTS (SELECT 1 FROM audit_legal_hold_releases r WHERE r.hold_id = h.id))
            THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION 'the audit log is append-only: % on % refused (only a purge past the retention '
                            'period and under no legal hold may remove an entry)', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END $$
    """)
    op.execute("""
        CREATE FUNCTION audit_entries_statement_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' AND current_setting('confide.audit_purge', true) = 'on' THEN
                RETURN NULL;  -- each row is still checked by audit_entries_guard
            END IF;
            RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END $$
    """)
    op.execute("DROP TRIGGER audit_entries_no_change ON audit_entries")
    op.execute("""
        CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries
        FOR EACH ROW EXECUTE FUNCTION audit_entries_guard()
    """)
    op.execute("""
        DO $$
        DECLARE t text;
        BEGIN
            FOR t IN SELECT 'audit_entries' UNION ALL
                     SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                     WHERE i.inhparent = 'audit_entries'::regclass
            LOOP
                EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_no_statement', t);
                EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE OR TRUNCATE ON %I FOR EACH STATEMENT '
                               'EXECUTE FUNCTION audit_entries_statement_guard()', t || '_no_statement', t);
            END LOOP;
        END $$
    """)
    op.execute("""
        CREATE OR REPLACE FUNCTION audit_ensure_partition(month date) RETURNS text
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
                    'EXECUTE FUNCTION audit_entries_statement_guard()', name || '_no_statement', name);
            END IF;
            RETURN name;
        END $$
    """)


def downgrade() -> None:
    raise RuntimeError("the audit log is never downgraded")
