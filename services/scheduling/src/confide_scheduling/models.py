"""The scheduling service's tables.

No double booking is PostgreSQL's job: every appointment has one row per party
(its clinician, co-therapist, each client, its room) in ``appointment_parties``,
and an exclusion constraint there refuses two active rows of the same party
whose time ranges overlap (first migration). Two concurrent bookings cannot
both commit.
"""

from __future__ import annotations

from confide_contracts.projections import linked_logins_table, supervisions_table
from confide_messaging import add_messaging_tables
from confide_persistence import make_metadata
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSTZRANGE, UUID, ExcludeConstraint

metadata = make_metadata()
VERSION_TABLE = "alembic_version_scheduling"

ID = String(200)

sites = Table(
    "sites",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("address", JSONB),
    Column("jurisdiction", String(8), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("late_cancel_hours", SmallInteger, nullable=False, server_default=text("24")),
    Column("offer_hours", SmallInteger, nullable=False, server_default=text("24")),  # a waitlist offer stands
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

rooms = Table(
    "rooms",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("site_id", String(64), ForeignKey("sites.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("capacity", SmallInteger, nullable=False),
    Column("telehealth_capable", Boolean, nullable=False, server_default=text("false")),
    Column("retired_at", DateTime(timezone=True)),  # no longer booked; kept for the sessions held in it
    UniqueConstraint("site_id", "name", name="uq_rooms_site_name"),
    CheckConstraint("capacity > 0", name="capacity"),
)

# weekly template, in the site's local time
availability = Table(
    "availability",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("clinician_id", ID, nullable=False),
    Column("site_id", String(64), ForeignKey("sites.id"), nullable=False),
    Column("weekday", SmallInteger, nullable=False),  # 0 Monday .. 6 Sunday
    Column("starts", Time, nullable=False),
    Column("ends", Time, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date),
    CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
    CheckConstraint("ends > starts", name="ends_after_start"),
)
Index("ix_availability_clinician_site", availability.c.clinician_id, availability.c.site_id)

# leave, holidays: a clinician's (clinician_id set) or a whole site's (NULL)
availability_exceptions = Table(
    "availability_exceptions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("clinician_id", ID),
    Column("site_id", String(64), ForeignKey("sites.id")),
    Column("during", TSTZRANGE, nullable=False),
    Column("reason", String(200), nullable=False),
    CheckConstraint("clinician_id IS NOT NULL OR site_id IS NOT NULL", name="whose"),
)

series = Table(
    "series",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("rrule", Text, nullable=False),
    Column("first_local", DateTime, nullable=False),  # wall-clock start in the site's zone
    Column("template", JSONB, nullable=False),
    Column("created_by", ID, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

appointments = Table(
    "appointments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("series_id", UUID(as_uuid=True), ForeignKey("series.id")),
    Column("occurrence", Integer),  # position in the series
    Column("detached", Boolean, nullable=False, server_default=text("false")),  # moved on its own
    Column("site_id", String(64), ForeignKey("sites.id"), nullable=False),
    Column("room_id", UUID(as_uuid=True), ForeignKey("rooms.id")),
    Column("clinician_id", ID, nullable=False),
    Column("co_therapist_id", ID),
    Column("kind", String(16), nullable=False),
    Column("service_kind", String(64), nullable=False),
    Column("modality", String(16), nullable=False),
    Column("client_jurisdiction", String(8), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("planned_minutes", SmallInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("minutes", SmallInteger),  # face-to-face, at completion
    Column("patient_present", Boolean),  # family sessions: was the identified client there
    Column("interactive_complexity", Boolean),
    Column("cancelled_by", String(8)),
    Column("late", Boolean),
    Column("status_reason", String(500)),
    Column("needs_reassignment", Boolean, nullable=False, server_default=text("false")),
    Column("reassignment_reasons", JSONB),
    Column("created_by", ID, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    CheckConstraint("status IN ('booked', 'checked_in', 'completed', 'cancelled', 'no_show')", name="status"),
    CheckConstraint("modality = 'telehealth' OR room_id IS NOT NULL", name="in_person_has_room"),
)
Index("ix_appointments_clinician_start", appointments.c.clinician_id, appointments.c.starts_at)
Index("ix_appointments_site_start", appointments.c.site_id, appointments.c.starts_at)
Index("ix_appointments_series", appointments.c.series_id, appointments.c.occurrence)

# one row per party of an appointment; the exclusion constraint lives here
appointment_parties = Table(
    "appointment_parties",
    metadata,
    Column("appointment_id", UUID(as_uuid=True), ForeignKey("appointments.id"), primary_key=True),
    Column("party_kind", String(16), primary_key=True),  # clinician | client | room
    Column("party_id", ID, primary_key=True),
    Column("during", TSTZRANGE, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    ExcludeConstraint(("party_kind", "="), ("party_id", "="), ("during", "&&"), where=text("active"), using="gist",
                      name="no_overlap"),
)

waitlist = Table(
    "waitlist",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("site_id", String(64), ForeignKey("sites.id"), nullable=False),
    Column("service_kind", String(64), nullable=False),
    Column("client_id", ID, nullable=False),
    Column("clinician_id", ID),  # preferred clinician, if any
    Column("status", String(16), nullable=False),  # waiting | offered | booked | removed
    Column("offer", JSONB),
    Column("offer_expires_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_waitlist_offers_due", waitlist.c.offer_expires_at, postgresql_where=waitlist.c.status == "offered")
Index("ix_waitlist_queue", waitlist.c.site_id, waitlist.c.service_kind, waitlist.c.created_at,
      postgresql_where=waitlist.c.status == "waiting")

# projection of credentialing's events: who may practise where
licenses = Table(
    "licenses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("clinician_id", ID, nullable=False, index=True),
    Column("type", String(40), nullable=False),
    Column("jurisdiction", String(8), nullable=False),
    Column("number", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("as_of", DateTime(timezone=True), nullable=False),  # occurred_at of the event applied
)

# projection of credentialing.supervision.* (credentialing is the authority)
supervisions = supervisions_table(metadata)
# projection of records.login.linked: whose record a client's own login is
linked_logins = linked_logins_table(metadata)

# projection of records.client.registered / renamed: how a day sheet names each client (updated_at: the
# event's time, so that an older event never overwrites a newer one)
client_names = Table(
    "client_names",
    metadata,
    Column("client_id", String(200), primary_key=True),
    Column("display_name", String(401)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

add_messaging_tables(metadata)
