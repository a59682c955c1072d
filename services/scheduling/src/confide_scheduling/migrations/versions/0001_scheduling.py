"""scheduling: sites, rooms, availability, series, appointments with one row per
party under an exclusion constraint (no double booking), waitlist, the licensure
projection, outbox and inbox

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


def upgrade() -> None:
    # gist indexes over (text =, range &&) for the exclusion constraint
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "licenses",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("clinician_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licenses")),
    )
    op.create_index(op.f("ix_licenses_clinician_id"), "licenses", ["clinician_id"], unique=False)
    op.create_table(
        "series",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("rrule", sa.Text(), nullable=False),
        sa.Column("first_local", sa.DateTime(), nullable=False),
        sa.Column("template", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("late_cancel_hours", sa.SmallInteger(), server_default=sa.text("24"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
    )
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
    op.create_table(
        "availability",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("clinician_id", sa.String(length=200), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.CheckConstraint("ends > starts", name=op.f("ck_availability_ends_after_start")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_availability_weekday")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_availability_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability")),
    )
    op.create_index("ix_availability_clinician_site", "availability", ["clinician_id", "site_id"], unique=False)
    op.create_table(
        "availability_exceptions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("clinician_id", sa.String(length=200), nullable=True),
        sa.Column("site_id", sa.String(length=64), nullable=True),
        sa.Column("during", postgresql.TSTZRANGE(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "clinician_id IS NOT NULL OR site_id IS NOT NULL", name=op.f("ck_availability_exceptions_whose")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_availability_exceptions_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_exceptions")),
    )
    op.create_table(
        "rooms",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("capacity", sa.SmallInteger(), nullable=False),
        sa.Column("telehealth_capable", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_rooms_capacity")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_rooms_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("site_id", "name", name="uq_rooms_site_name"),
    )
    op.create_table(
        "waitlist",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("service_kind", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("clinician_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("offer", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_waitlist_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist")),
    )
    op.create_index(
        "ix_waitlist_queue",
        "waitlist",
        ["site_id", "service_kind", "created_at"],
        unique=False,
        postgresql_where=sa.text("status = 'waiting'"),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("series_id", sa.UUID(), nullable=True),
        sa.Column("occurrence", sa.Integer(), nullable=True),
        sa.Column("detached", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("room_id", sa.UUID(), nullable=True),
        sa.Column("clinician_id", sa.String(length=200), nullable=False),
        sa.Column("co_therapist_id", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("service_kind", sa.String(length=64), nullable=False),
        sa.Column("modality", sa.String(length=16), nullable=False),
        sa.Column("client_jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("minutes", sa.SmallInteger(), nullable=True),
        sa.Column("patient_present", sa.Boolean(), nullable=True),
        sa.Column("interactive_complexity", sa.Boolean(), nullable=True),
        sa.Column("cancelled_by", sa.String(length=8), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=True),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.Column("needs_reassignment", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("reassignment_reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "modality = 'telehealth' OR room_id IS NOT NULL", name=op.f("ck_appointments_in_person_has_room")
        ),
        sa.CheckConstraint(
            "status IN ('booked', 'checked_in', 'completed', 'cancelled', 'no_show')",
            name=op.f("ck_appointments_status"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_appointments_ends_after_start")),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_appointments_room_id_rooms")),
        sa.ForeignKeyConstraint(["series_id"], ["series.id"], name=op.f("fk_appointments_series_id_series")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_appointments_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    op.create_index("ix_appointments_clinician_start", "appointments", ["clinician_id", "starts_at"], unique=False)
    op.create_index("ix_appointments_series", "appointments", ["series_id", "occurrence"], unique=False)
    op.create_index("ix_appointments_site_start", "appointments", ["site_id", "starts_at"], unique=False)
    op.create_table(
        "appointment_parties",
        sa.Column("appointment_id", sa.UUID(), nullable=False),
        sa.Column("party_kind", sa.String(length=16), nullable=False),
        sa.Column("party_id", sa.String(length=200), nullable=False),
        sa.Column("during", postgresql.TSTZRANGE(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        postgresql.ExcludeConstraint(
            (sa.column("party_kind"), "="),
            (sa.column("party_id"), "="),
            (sa.column("during"), "&&"),
            where=sa.text("active"),
            using="gist",
            name="no_overlap",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointments.id"], name=op.f("fk_appointment_parties_appointment_id_appointments")
        ),
        sa.PrimaryKeyConstraint("appointment_id", "party_kind", "party_id", name=op.f("pk_appointment_parties")),
    )
    create_messaging_tables()


def downgrade() -> None:
    op.drop_table("appointment_parties")
    op.drop_index("ix_appointments_site_start", table_name="appointments")
    op.drop_index("ix_appointments_series", table_name="appointments")
    op.drop_index("ix_appointments_clinician_start", table_name="appointments")
    op.drop_table("appointments")
    op.drop_index("ix_waitlist_queue", table_name="waitlist", postgresql_where=sa.text("status = 'waiting'"))
    op.drop_table("waitlist")
    op.drop_table("rooms")
    op.drop_table("availability_exceptions")
    op.drop_index("ix_availability_clinician_site", table_name="availability")
    op.drop_table("availability")
    op.drop_index(op.f("ix_supervisions_supervisee_id"), table_name="supervisions")
    op.drop_table("supervisions")
    op.drop_table("sites")
    op.drop_table("series")
    op.drop_index("ix_outbox_unsent", table_name="outbox", postgresql_where=sa.text("sent_at IS NULL"))
    op.drop_table("outbox")
    op.drop_index(op.f("ix_licenses_clinician_id"), table_name="licenses")
    op.drop_table("licenses")
    op.drop_table("inbox")
