"""clinical record: clients, guardians, care teams, supervision projection,
consents, diagnoses, treatment plans, notes (locked once signed), psychotherapy
notes, break-the-glass grants, notifications, outbox and inbox

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from confide_messaging.migrations import create_messaging_tables
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# A signed note (and its sections, participants and addenda) is locked: the
# database refuses any change to it except a new ciphertext of the same text (a
# rewrap after key rotation; the service checks each body against the hash
# recorded at signing) and, once, the supervisor's co-signature.
LOCKS = [
    """
    CREATE FUNCTION records_refuse_signed_change() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        mutable text[] := coalesce(TG_ARGV, '{}');
    BEGIN
        IF OLD.status <> 'signed' THEN
            RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION '% row % is signed and cannot be deleted', TG_TABLE_NAME, OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
        IF (to_jsonb(NEW) - mutable) IS DISTINCT FROM (to_jsonb(OLD) - mutable) THEN
            RAISE EXCEPTION '% row % is signed and locked; add an addendum instead', TG_TABLE_NAME, OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
        IF TG_TABLE_NAME = 'notes' THEN  -- (nested: PL/pgSQL does not short-circuit AND)
            IF (to_jsonb(OLD) ->> 'cosigned_at') IS NOT NULL
               AND (to_jsonb(NEW) -> 'cosigned_by', to_jsonb(NEW) -> 'cosigned_at')
                   IS DISTINCT FROM (to_jsonb(OLD) -> 'cosigned_by', to_jsonb(OLD) -> 'cosigned_at') THEN
                RAISE EXCEPTION 'a co-signature cannot be changed' USING ERRCODE = 'check_violation';
            END IF;
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE FUNCTION records_refuse_change_of_signed_parts() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        mutable text[] := coalesce(TG_ARGV, '{}');
        note uuid := CASE TG_OP WHEN 'DELETE' THEN OLD.note_id ELSE NEW.note_id END;
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.note_id IS DISTINCT FROM NEW.note_id THEN
            RAISE EXCEPTION 'a part of a note cannot move to another note' USING ERRCODE = 'check_violation';
        END IF;
        IF TG_TABLE_NAME = 'note_addenda' OR EXISTS (SELECT 1 FROM notes WHERE id = note AND status = 'signed') THEN
            IF TG_OP = 'DELETE' OR (TG_OP = 'INSERT' AND TG_TABLE_NAME <> 'note_addenda') THEN
                RAISE EXCEPTION '% of a signed note cannot be added or deleted', TG_TABLE_NAME
                    USING ERRCODE = 'check_violation';
            END IF;
            IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - mutable) IS DISTINCT FROM (to_jsonb(OLD) - mutable) THEN
                RAISE EXCEPTION '% of a signed note are locked', TG_TABLE_NAME USING ERRCODE = 'check_violation';
            END IF;
        END IF;
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END $$
    """,
    """
    CREATE FUNCTION records_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% cannot be truncated', TG_TABLE_NAME USING ERRCODE = 'check_violation';
    END $$
    """,
    """CREATE TRIGGER notes_locked_when_signed BEFORE UPDATE OR DELETE ON notes
       FOR EACH ROW EXECUTE FUNCTION records_refuse_signed_change('cosigned_by', 'cosigned_at')""",
    """CREATE TRIGGER psychotherapy_notes_locked_when_signed BEFORE UPDATE OR DELETE ON psychotherapy_notes
       FOR EACH ROW EXECUTE FUNCTION records_refuse_signed_change('body_ciphertext')""",
    """CREATE TRIGGER note_sections_locked_when_signed BEFORE INSERT OR UPDATE OR DELETE ON note_sections
       FOR EACH ROW EXECUTE FUNCTION records_refuse_change_of_signed_parts('body_ciphertext')""",
    """CREATE TRIGGER note_participants_locked_when_signed BEFORE INSERT OR UPDATE OR DELETE ON note_participants
       FOR EACH ROW EXECUTE FUNCTION records_refuse_change_of_signed_parts()""",
    """CREATE TRIGGER note_addenda_locked BEFORE UPDATE OR DELETE ON note_addenda
       FOR EACH ROW EXECUTE FUNCTION records_refuse_change_of_signed_parts('body_ciphertext')""",
    *(
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
       FOR EACH STATEMENT EXECUTE FUNCTION records_refuse_truncate()"""
        for table in ("notes", "note_sections", "note_participants", "note_addenda", "psychotherapy_notes")
    ),
]
UNLOCKS = [
    "DROP FUNCTION IF EXISTS records_refuse_truncate() CASCADE",
    "DROP FUNCTION IF EXISTS records_refuse_change_of_signed_parts() CASCADE",
    "DROP FUNCTION IF EXISTS records_refuse_signed_change() CASCADE",
]


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("preferred_name", sa.String(length=200), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("gender_identity", sa.String(length=100), nullable=True),
        sa.Column("pronouns", sa.String(length=50), nullable=True),
        sa.Column("home_site_id", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "emergency_contacts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("insurance", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("registered_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
        sa.UniqueConstraint("user_id", name=op.f("uq_clients_user_id")),
    )
    op.create_index("ix_clients_site_name", "clients", ["home_site_id", "family_name"], unique=False)
    op.create_table(
        "notes",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("session_kind", sa.String(length=16), nullable=False),
        sa.Column("appointment_id", sa.String(length=200), nullable=True),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("author_id", sa.String(length=200), nullable=False),
        sa.Column("site_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.Column("cosign_required", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("cosigned_by", sa.String(length=200), nullable=True),
        sa.Column("cosigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    op.create_index(op.f("ix_notes_author_id"), "notes", ["author_id"], unique=False)
    op.create_table(
        "supervisions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("supervisor_id", sa.String(length=200), nullable=False),
        sa.Column("supervisee_id", sa.String(length=200), nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervisions")),
    )
    op.create_index(op.f("ix_supervisions_supervisee_id"), "supervisions", ["supervisee_id"], unique=False)
    op.create_index(op.f("ix_supervisions_supervisor_id"), "supervisions", ["supervisor_id"], unique=False)
    op.create_table(
        "break_glass_grants",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("review_status", sa.String(length=16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_comment", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_break_glass_grants_client_id_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass_grants")),
    )
    op.create_index(
        "ix_break_glass_pending",
        "break_glass_grants",
        ["opened_at"],
        unique=False,
        postgresql_where=sa.text("review_status = 'pending'"),
    )
    op.create_index(
        "ix_break_glass_user_client", "break_glass_grants", ["user_id", "client_id", "expires_at"], unique=False
    )
    op.create_table(
        "care_team",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("clinician_id", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_care_team_client_id_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_team")),
    )
    op.create_index("ix_care_team_client", "care_team", ["client_id"], unique=False)
    op.create_index(op.f("ix_care_team_clinician_id"), "care_team", ["clinician_id"], unique=False)
    op.create_index(
        "uq_care_team_active",
        "care_team",
        ["client_id", "clinician_id"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index(
        "uq_care_team_one_primary",
        "care_team",
        ["client_id"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL AND role = 'primary'"),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=300), nullable=True),
        sa.Column("scope", postgresql.ARRAY(sa.String(length=32)), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("purpose", sa.String(length=300), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("signed_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.Column("revocation_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_consents_client_id_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index(op.f("ix_consents_client_id"), "consents", ["client_id"], unique=False)
    op.create_table(
        "diagnoses",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("onset_on", sa.Date(), nullable=True),
        sa.Column("diagnosed_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_diagnoses_client_id_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diagnoses")),
    )
    op.create_index(op.f("ix_diagnoses_client_id"), "diagnoses", ["client_id"], unique=False)
    op.create_table(
        "guardians",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("relationship", sa.String(length=50), nullable=False),
        sa.Column("may_see", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_guardians_client_id_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardians")),
    )
    op.create_index(op.f("ix_guardians_client_id"), "guardians", ["client_id"], unique=False)
    op.create_index(op.f("ix_guardians_user_id"), "guardians", ["user_id"], unique=False)
    op.create_table(
        "note_addenda",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("note_id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("author_id", sa.String(length=200), nullable=False),
        sa.Column("body_ciphertext", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_note_addenda_client_id_clients")),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"], name=op.f("fk_note_addenda_note_id_notes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_addenda")),
    )
    op.create_index(op.f("ix_note_addenda_note_id"), "note_addenda", ["note_id"], unique=False)
    op.create_table(
        "note_participants",
        sa.Column("note_id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_note_participants_client_id_clients")),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"], name=op.f("fk_note_participants_note_id_notes")),
        sa.PrimaryKeyConstraint("note_id", "client_id", name=op.f("pk_note_participants")),
    )
    op.create_index(op.f("ix_note_participants_client_id"), "note_participants", ["client_id"], unique=False)
    op.create_table(
        "note_sections",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("note_id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=True),
        sa.Column("body_ciphertext", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_note_sections_client_id_clients")),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"], name=op.f("fk_note_sections_note_id_notes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_sections")),
    )
    op.create_index(op.f("ix_note_sections_note_id"), "note_sections", ["note_id"], unique=False)
    op.create_table(
        "notifications",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("recipient_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_notifications_client_id_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(op.f("ix_notifications_recipient_id"), "notifications", ["recipient_id"], unique=False)
    op.create_table(
        "psychotherapy_notes",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("author_id", sa.String(length=200), nullable=False),
        sa.Column("appointment_id", sa.String(length=200), nullable=True),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("body_ciphertext", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_psychotherapy_notes_client_id_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_psychotherapy_notes")),
    )
    op.create_index("ix_psychotherapy_notes_author", "psychotherapy_notes", ["author_id", "client_id"], unique=False)
    op.create_table(
        "treatment_plans",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.Column("author_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=False),
        sa.Column("goals_ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_treatment_plans_client_id_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_plans")),
    )
    op.create_index(op.f("ix_treatment_plans_client_id"), "treatment_plans", ["client_id"], unique=False)
    create_messaging_tables()
    for statement in LOCKS:
        op.execute(statement)


def downgrade() -> None:
    for statement in UNLOCKS:
        op.execute(statement)
    op.drop_index(op.f("ix_treatment_plans_client_id"), table_name="treatment_plans")
    op.drop_table("treatment_plans")
    op.drop_index("ix_psychotherapy_notes_author", table_name="psychotherapy_notes")
    op.drop_table("psychotherapy_notes")
    op.drop_index(op.f("ix_notifications_recipient_id"), table_name="notifications")
    op.drop_table("notifications")
    op.drop_index(op.f("ix_note_sections_note_id"), table_name="note_sections")
    op.drop_table("note_sections")
    op.drop_index(op.f("ix_note_participants_client_id"), table_name="note_participants")
    op.drop_table("note_participants")
    op.drop_index(op.f("ix_note_addenda_note_id"), table_name="note_addenda")
    op.drop_table("note_addenda")
    op.drop_index(op.f("ix_guardians_user_id"), table_name="guardians")
    op.drop_index(op.f("ix_guardians_client_id"), table_name="guardians")
    op.drop_table("guardians")
    op.drop_index(op.f("ix_diagnoses_client_id"), table_name="diagnoses")
    op.drop_table("diagnoses")
    op.drop_index(op.f("ix_consents_client_id"), table_name="consents")
    op.drop_table("consents")
    op.drop_index(
        "uq_care_team_one_primary",
        table_name="care_team",
        postgresql_where=sa.text("ended_at IS NULL AND role = 'primary'"),
    )
    op.drop_index("uq_care_team_active", table_name="care_team", postgresql_where=sa.text("ended_at IS NULL"))
    op.drop_index(op.f("ix_care_team_clinician_id"), table_name="care_team")
    op.drop_index("ix_care_team_client", table_name="care_team")
    op.drop_table("care_team")
    op.drop_index("ix_break_glass_user_client", table_name="break_glass_grants")
    op.drop_index(
        "ix_break_glass_pending", table_name="break_glass_grants", postgresql_where=sa.text("review_status = 'pending'")
    )
    op.drop_table("break_glass_grants")
    op.drop_index(op.f("ix_supervisions_supervisor_id"), table_name="supervisions")
    op.drop_index(op.f("ix_supervisions_supervisee_id"), table_name="supervisions")
    op.drop_table("supervisions")
    op.drop_index("ix_outbox_unsent", table_name="outbox", postgresql_where=sa.text("sent_at IS NULL"))
    op.drop_table("outbox")
    op.drop_index(op.f("ix_notes_author_id"), table_name="notes")
    op.drop_table("notes")
    op.drop_table("inbox")
    op.drop_index("ix_clients_site_name", table_name="clients")
    op.drop_table("clients")
