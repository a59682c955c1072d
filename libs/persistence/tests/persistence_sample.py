from confide_messaging import add_messaging_tables
from confide_persistence import make_metadata
from sqlalchemy import Column, String, Table, text
from sqlalchemy.dialects.postgresql import TIMESTAMP

metadata = make_metadata()
rooms = Table(
    "rooms",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", TIMESTAMP(timezone=True), nullable=False, server_default=text("now()")),
)
add_messaging_tables(metadata)
VERSION_TABLE = "alembic_version_sample"
