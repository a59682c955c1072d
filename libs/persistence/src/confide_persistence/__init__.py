"""SQLAlchemy 2 + psycopg 3 for nameko services: engines, a per-worker session
in one transaction, and per-service Alembic migrations."""

import warnings

# eventlet announces its deprecation on import; the choice is recorded in the
# README's design notes, and the notice would otherwise open every log.
warnings.filterwarnings("ignore", message="Eventlet is deprecated")

from confide_persistence.engine import CredentialSource, create_engine  # noqa: E402
from confide_persistence.migrations import make_metadata, upgrade  # noqa: E402
from confide_persistence.provider import Database, DatabaseAccess  # noqa: E402
from confide_persistence.rows import plain  # noqa: E402

__all__ = [
    "CredentialSource",
    "Database",
    "DatabaseAccess",
    "create_engine",
    "make_metadata",
    "plain",
    "upgrade",
]
