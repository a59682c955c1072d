"""billing: whose record a client's own login is (``records.login.linked``), for
their statement

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "linked_logins",
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("linked_as", sa.String(length=16), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "client_id", "linked_as", name=op.f("pk_linked_logins")),
    )


def downgrade() -> None:
    op.drop_table("linked_logins")
