"""scheduling: the supervision projection in its shared shape
(confide_contracts.projections): supervisors indexed too

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_supervisions_supervisor_id"), "supervisions", ["supervisor_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_supervisions_supervisor_id"), table_name="supervisions")
