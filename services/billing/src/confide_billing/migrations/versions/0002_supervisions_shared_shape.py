"""billing: the supervision projection in its shared shape
(confide_contracts.projections): the jurisdiction billing used to drop, and
supervisors indexed

Rows projected before this revision have no jurisdiction to recover (the events
that carried it are long handled): they get an empty one. Billing reads no
jurisdiction from them today; claims name the supervisor by date alone.

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
    op.add_column("supervisions", sa.Column("jurisdiction", sa.String(length=8), nullable=False, server_default=""))
    op.alter_column("supervisions", "jurisdiction", server_default=None)
    op.create_index(op.f("ix_supervisions_supervisor_id"), "supervisions", ["supervisor_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_supervisions_supervisor_id"), table_name="supervisions")
    op.drop_column("supervisions", "jurisdiction")
