"""records: logins linked by one-time invitation codes, never set by staff;
guardians' clinical rights wait for a clinician's approval

A guardian recorded before this revision keeps the rights recorded then (they
were recorded as approved). Logins linked before it stay linked.

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


def upgrade() -> None:
    op.add_column(
        "guardians",
        sa.Column("requested", postgresql.ARRAY(sa.String(length=32)), server_default=sa.text("'{}'"), nullable=False),
    )
    op.add_column("guardians", sa.Column("approved_by", sa.String(length=200), nullable=True))
    op.add_column("guardians", sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "login_invitations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("guardian_id", sa.UUID(), nullable=True),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redeemed_by", sa.String(length=200), nullable=True),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_login_invitations_client_id_clients")),
        sa.ForeignKeyConstraint(
            ["guardian_id"], ["guardians.id"], name=op.f("fk_login_invitations_guardian_id_guardians")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_invitations")),
        sa.UniqueConstraint("code_sha256", name=op.f("uq_login_invitations_code_sha256")),
    )
    op.create_index(op.f("ix_login_invitations_client_id"), "login_invitations", ["client_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_login_invitations_client_id"), table_name="login_invitations")
    op.drop_table("login_invitations")
    op.drop_column("guardians", "approved_at")
    op.drop_column("guardians", "approved_by")
    op.drop_column("guardians", "requested")
