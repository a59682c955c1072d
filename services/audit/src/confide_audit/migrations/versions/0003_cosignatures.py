"""audit: witnesses' cosignatures of the checkpoints (C2SP tlog-cosignature),
kept beside them; added to, never changed

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_cosignatures",
        sa.Column("chain", sa.SmallInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("witness", sa.String(length=200), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("cosigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("chain", "size", "witness", name=op.f("pk_audit_cosignatures")),
    )
    for guard, when, each in (("no_change", "UPDATE OR DELETE", "ROW"),
                              ("no_statement", "UPDATE OR DELETE OR TRUNCATE", "STATEMENT")):
        op.execute(f"CREATE TRIGGER audit_cosignatures_{guard} BEFORE {when} ON audit_cosignatures "
                   f"FOR EACH {each} EXECUTE FUNCTION audit_refuse_change()")


def downgrade() -> None:
    op.drop_table("audit_cosignatures")
