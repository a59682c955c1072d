"""audit: logins linked to client records (records.login.linked), so that a
client's access report finds the accesses to their record; added to, never changed

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
        "audit_linked_logins",
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("linked_as", sa.String(length=16), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "client_id", "linked_as", name=op.f("pk_audit_linked_logins")),
    )
    for guard, when, each in (("no_change", "UPDATE OR DELETE", "ROW"),
                              ("no_statement", "UPDATE OR DELETE OR TRUNCATE", "STATEMENT")):
        op.execute(f"CREATE TRIGGER audit_linked_logins_{guard} BEFORE {when} ON audit_linked_logins "
                   f"FOR EACH {each} EXECUTE FUNCTION audit_refuse_change()")


def downgrade() -> None:
    op.drop_table("audit_linked_logins")
