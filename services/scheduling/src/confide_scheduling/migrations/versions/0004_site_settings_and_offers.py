"""scheduling: how long a waitlist offer stands at a site, when each offer
lapses, rooms retired from booking, and whose record a client's login is
(``records.login.linked``)

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
    op.add_column("sites", sa.Column("offer_hours", sa.SmallInteger(), server_default=sa.text("24"), nullable=False))
    op.add_column("rooms", sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("waitlist", sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_waitlist_offers_due", "waitlist", ["offer_expires_at"],
                    postgresql_where=sa.text("status = 'offered'"))
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
    op.drop_index("ix_waitlist_offers_due", table_name="waitlist")
    op.drop_column("waitlist", "offer_expires_at")
    op.drop_column("rooms", "retired_at")
    op.drop_column("sites", "offer_hours")
