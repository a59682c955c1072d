"""billing: each client's home site, projected from records.client.registered,
so that a biller, desk or admin sees only the books of their own sites' clients

Clients registered before this revision are not in it: billing refuses their
books, as it refuses an unknown client, until an operator copies ``id`` and
``home_site_id`` from records' ``clients`` table into this one.

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
        "clients",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("home_site_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
    )


def downgrade() -> None:
    op.drop_table("clients")
