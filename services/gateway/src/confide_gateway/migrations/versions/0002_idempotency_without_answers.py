"""idempotency keys keep no answer: status and resource id only, and expire

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # stored answers held decrypted client data (a disclosure carries the record): gone, not migrated
    op.drop_column("idempotency_keys", "body")
    op.add_column("idempotency_keys", sa.Column("resource_id", sa.String(length=200), nullable=True))
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_column("idempotency_keys", "resource_id")
    op.add_column("idempotency_keys", sa.Column("body", sa.Text(), nullable=True))
