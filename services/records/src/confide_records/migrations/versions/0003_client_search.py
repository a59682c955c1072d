"""records: finding a client -- a record number for every client, the words of
every client's name (kept by a trigger) with a trigram index over the distinct
words (typos, accents), and indexes for date of birth and phone

``pg_trgm`` and ``unaccent`` are trusted extensions (PostgreSQL 13+): the
database's owner may create them. Names are folded (accents and apostrophes
off, lower case) by an IMMUTABLE function so that the folded name can be a
stored column. Following pg_trgm's own advice for fuzzy search over many rows,
trigrams are indexed over the distinct words of all names, and each client's
words are kept beside them for a btree lookup. Clients registered before this
revision get record numbers and words here.

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
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    schema = op.get_bind().execute(sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'unaccent'")).scalar_one()
    op.execute(f"""
        CREATE FUNCTION confide_fold(text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT lower({schema}.unaccent('{schema}.unaccent'::regdictionary,
                                             translate($1, '''' || chr(8217), ''))) $$
    """)
    op.execute("CREATE SEQUENCE clients_record_number_seq START 100001")
    op.execute("""
        ALTER TABLE clients ADD COLUMN record_number bigint NOT NULL
            DEFAULT nextval('clients_record_number_seq')
    """)  # existing rows numbered in the order they come: backfilled by the DEFAULT
    op.execute("ALTER SEQUENCE clients_record_number_seq OWNED BY clients.record_number")
    op.create_unique_constraint("uq_clients_record_number", "clients", ["record_number"])
    op.execute("""
        ALTER TABLE clients ADD COLUMN search_name text NOT NULL GENERATED ALWAYS AS
            (confide_fold(given_name || ' ' || coalesce(preferred_name || ' ', '') || family_name)) STORED
    """)
    op.execute("""
        ALTER TABLE clients ADD COLUMN phone_digits text GENERATED ALWAYS AS
            (nullif(regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'), '')) STORED
    """)
    op.execute("CREATE INDEX ix_clients_phone_suffix ON clients (reverse(phone_digits) text_pattern_ops)")
    op.create_index("ix_clients_date_of_birth", "clients", ["date_of_birth"])
    op.create_table(
        "name_words",
        sa.Column("word", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_name_words")),
    )
    op.execute("CREATE INDEX ix_name_words_trigrams ON name_words USING gin (word gin_trgm_ops)")
    op.execute("CREATE INDEX ix_name_words_prefix ON name_words (word text_pattern_ops)")
    op.create_table(
        "client_name_words",
        sa.Column("word", sa.Text(), nullable=False),
        sa.Column("home_site_id", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], name=op.f("fk_client_name_words_client_id_clients")),
        sa.PrimaryKeyConstraint("word", "home_site_id", "client_id", name=op.f("pk_client_name_words")),
    )
    op.create_index(op.f("ix_client_name_words_client_id"), "client_name_words", ["client_id"])
    op.execute(r"""
        CREATE FUNCTION clients_name_words() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                DELETE FROM client_name_words WHERE client_id = OLD.id;
            END IF;
            INSERT INTO name_words (word)
                SELECT DISTINCT w FROM regexp_split_to_table(NEW.search_name, '[^[:alnum:]]+') AS w WHERE w <> ''
                ON CONFLICT DO NOTHING;
            INSERT INTO client_name_words (word, home_site_id, client_id)
                SELECT DISTINCT w, NEW.home_site_id, NEW.id
                FROM regexp_split_to_table(NEW.search_name, '[^[:alnum:]]+') AS w WHERE w <> '';
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER clients_name_words AFTER INSERT OR UPDATE OF given_name, family_name, preferred_name,
            home_site_id ON clients FOR EACH ROW EXECUTE FUNCTION clients_name_words()
    """)
    op.execute("UPDATE clients SET given_name = given_name")  # the words of clients registered before


def downgrade() -> None:
    op.execute("DROP TRIGGER clients_name_words ON clients")
    op.execute("DROP FUNCTION clients_name_words()")
    op.drop_table("client_name_words")
    op.drop_table("name_words")
    op.drop_index("ix_clients_date_of_birth", table_name="clients")
    op.drop_index("ix_clients_phone_suffix", table_name="clients")
    op.drop_column("clients", "phone_digits")
    op.drop_column("clients", "search_name")
    op.drop_constraint("uq_clients_record_number", "clients")
    op.drop_column("clients", "record_number")
    op.execute("DROP FUNCTION confide_fold(text)")
