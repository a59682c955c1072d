"""The records service's tables.

Clinical text (note bodies, psychotherapy notes, treatment-plan goals) is held
only as Vault transit ciphertext (``*_ciphertext``). A signed note is locked by
triggers (first migration): only its ciphertext may change, so that a rewrap
after key rotation works while the signed content, checked against the hashes
recorded at signing, cannot.
"""

from __future__ import annotations

from confide_contracts.projections import supervisions_table
from confide_messaging import add_messaging_tables
from confide_persistence import make_metadata
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = make_metadata()
VERSION_TABLE = "alembic_version_records"

ID = String(200)  # identifiers issued elsewhere (users, sites, appointments)


def created_at() -> Column:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


clients = Table(
    "clients",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("given_name", String(200), nullable=False),
    Column("family_name", String(200), nullable=False),
    Column("preferred_name", String(200)),
    Column("date_of_birth", Date, nullable=False),
    Column("gender_identity", String(100)),
    Column("pronouns", String(50)),
    Column("home_site_id", ID, nullable=False),
    Column("user_id", ID, unique=True),  # the client's own login, if any
    Column("phone", String(40)),
    Column("email", String(320)),
    Column("address", JSONB),
    Column("emergency_contacts", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("insurance", JSONB),  # payer_id, member_id, group_number: what billing needs
    Column("registered_by", ID, nullable=False),
    created_at(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # what the front desk finds a client by (migration 0003): a number to say on the phone, the name
    # folded (accents off, lower case) for trigram search, the phone's digits
    Column("record_number", BigInteger, nullable=False, unique=True,
           server_default=text("nextval('clients_record_number_seq')")),
    Column("search_name", Text, Computed(
        "confide_fold(given_name || ' ' || coalesce(preferred_name || ' ', '') || family_name)"), nullable=False),
    Column("phone_digits", Text, Computed("nullif(regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'), '')")),
)
Index("ix_clients_site_name", clients.c.home_site_id, clients.c.family_name)
Index("ix_clients_phone_suffix", func.reverse(clients.c.phone_digits).label("phone_suffix"),
      postgresql_ops={"phone_suffix": "text_pattern_ops"})
Index("ix_clients_date_of_birth", clients.c.date_of_birth)

# the words of every client's folded name (a trigger on ``clients`` keeps them, migration 0003), and the
# distinct words with a trigram index: a typo is matched against the words, not against every client
name_words = Table("name_words", metadata, Column("word", Text, primary_key=True))
Index("ix_name_words_trigrams", name_words.c.word, postgresql_using="gin", postgresql_ops={"word": "gin_trgm_ops"})
Index("ix_name_words_prefix", name_words.c.word, postgresql_ops={"word": "text_pattern_ops"})
client_name_words = Table(
    "client_name_words",
    metadata,
    Column("word", Text, primary_key=True),
    Column("home_site_id", ID, primary_key=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), primary_key=True, index=True),
)

guardians = Table(
    "guardians",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False, index=True),
    Column("user_id", ID, index=True),
    Column("name", String(200), nullable=False),
    Column("relationship", String(50), nullable=False),
    Column("may_see", ARRAY(String(32)), nullable=False),  # kinds of record they may see now
    # clinical kinds asked for by staff who are not clinicians, until a clinician approves
    Column("requested", ARRAY(String(32)), nullable=False, server_default=text("'{}'")),
    Column("approved_by", ID),
    Column("approved_at", DateTime(timezone=True)),
    Column("valid_until", Date),
    Column("recorded_by", ID, nullable=False),
    created_at(),
)

# One-time codes that link a person's own login to a record: the client's
# (guardian_id null) or a guardian's. Only the code's hash is kept.
login_invitations = Table(
    "login_invitations",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False, index=True),
    Column("guardian_id", UUID(as_uuid=True), ForeignKey("guardians.id")),
    Column("code_sha256", String(64), nullable=False, unique=True),
    Column("created_by", ID, nullable=False),
    created_at(),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("redeemed_by", ID),
    Column("redeemed_at", DateTime(timezone=True)),
)

care_team = Table(
    "care_team",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False),
    Column("clinician_id", ID, nullable=False, index=True),
    Column("role", String(32), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("ended_at", DateTime(timezone=True)),
    Column("assigned_by", ID, nullable=False),
)
Index("ix_care_team_client", care_team.c.client_id)
Index("uq_care_team_active", care_team.c.client_id, care_team.c.clinician_id, unique=True,
      postgresql_where=care_team.c.ended_at.is_(None))
Index("uq_care_team_one_primary", care_team.c.client_id, unique=True,
      postgresql_where=(care_team.c.ended_at.is_(None)) & (care_team.c.role == "primary"))

# projection of credentialing.supervision.* (credentialing is the authority)
supervisions = supervisions_table(metadata)

consents = Table(
    "consents",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("recipient", String(300)),
    Column("scope", ARRAY(String(32)), nullable=False, server_default=text("'{}'")),
    Column("purpose", String(300)),
    Column("effective_on", Date, nullable=False),
    Column("expires_on", Date),
    Column("signed_by", String(200), nullable=False),
    Column("recorded_by", ID, nullable=False),
    created_at(),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", ID),
    Column("revocation_reason", String(500)),
)

diagnoses = Table(
    "diagnoses",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False, index=True),
    Column("code", String(8), nullable=False),
    Column("description", String(300), nullable=False),
    Column("status", String(16), nullable=False),
    Column("onset_on", Date),
    Column("diagnosed_by", ID, nullable=False),
    created_at(),
)

treatment_plans = Table(
    "treatment_plans",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False, index=True),
    Column("author_id", ID, nullable=False),
    Column("status", String(16), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("review_on", Date, nullable=False),
    Column("goals_ciphertext", Text, nullable=False),
    created_at(),
)

notes = Table(
    "notes",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("kind", String(16), nullable=False),  # intake | progress
    Column("session_kind", String(16), nullable=False),  # individual | couple | family | group | child
    Column("appointment_id", ID),
    Column("service_date", Date, nullable=False),
    Column("author_id", ID, nullable=False, index=True),
    Column("site_id", ID, nullable=False),
    Column("status", String(16), nullable=False),  # draft | signed
    created_at(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("signed_at", DateTime(timezone=True)),
    Column("content_sha256", String(64)),
    Column("cosign_required", Boolean, nullable=False, server_default=text("false")),
    Column("cosigned_by", ID),
    Column("cosigned_at", DateTime(timezone=True)),
)

note_participants = Table(
    "note_participants",
    metadata,
    Column("note_id", UUID(as_uuid=True), ForeignKey("notes.id"), primary_key=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), primary_key=True, index=True),
)

# A section concerns one participant (client_id) or the whole session (NULL).
# A client's record shows the session's sections and their own, never another
# participant's.
note_sections = Table(
    "note_sections",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("note_id", UUID(as_uuid=True), ForeignKey("notes.id"), nullable=False, index=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id")),
    Column("body_ciphertext", Text, nullable=False),
    Column("body_sha256", String(64)),
)

note_addenda = Table(
    "note_addenda",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("note_id", UUID(as_uuid=True), ForeignKey("notes.id"), nullable=False, index=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id")),
    Column("author_id", ID, nullable=False),
    Column("body_ciphertext", Text, nullable=False),
    Column("body_sha256", String(64), nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
)

# Kept apart from the record (45 CFR 164.501), under a transit key of their own.
psychotherapy_notes = Table(
    "psychotherapy_notes",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False),
    Column("author_id", ID, nullable=False),
    Column("appointment_id", ID),
    Column("service_date", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("body_ciphertext", Text, nullable=False),
    Column("content_sha256", String(64)),
    created_at(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("signed_at", DateTime(timezone=True)),
)
Index("ix_psychotherapy_notes_author", psychotherapy_notes.c.author_id, psychotherapy_notes.c.client_id)

break_glass_grants = Table(
    "break_glass_grants",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False),
    Column("user_id", ID, nullable=False),
    Column("role", String(32), nullable=False),
    Column("reason", String(1000), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("review_status", String(16), nullable=False, server_default=text("'pending'")),
    Column("reviewed_by", ID),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("review_comment", String(1000)),
)
Index("ix_break_glass_user_client", break_glass_grants.c.user_id, break_glass_grants.c.client_id,
      break_glass_grants.c.expires_at)
Index("ix_break_glass_pending", break_glass_grants.c.opened_at,
      postgresql_where=break_glass_grants.c.review_status == "pending")

notifications = Table(
    "notifications",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("recipient_id", ID, nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("client_id", UUID(as_uuid=True), ForeignKey("clients.id"), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("detail", JSONB, nullable=False),
    created_at(),
    Column("read_at", DateTime(timezone=True)),
)

add_messaging_tables(metadata)

# (table, ciphertext column, transit key setting): what a rewrap re-encrypts
ENCRYPTED_COLUMNS = (
    (note_sections, "body_ciphertext", "NOTES_KEY"),
    (note_addenda, "body_ciphertext", "NOTES_KEY"),
    (treatment_plans, "goals_ciphertext", "NOTES_KEY"),
    (psychotherapy_notes, "body_ciphertext", "PSYCHOTHERAPY_KEY"),
)
