"""scheduling: the names a day sheet shows, projected from records'
``records.client.registered`` (v2) and ``records.client.renamed``

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
        "client_names",
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=401), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_names")),
    )


def downgrade() -> None:
    op.drop_table("client_names")
