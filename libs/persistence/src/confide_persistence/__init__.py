"""SQLAlchemy 2 + psycopg 3 for nameko services: engines, a per-worker session
in one transaction, and per-service Alembic migrations.

The names below are loaded on first use, so that ``confide_persistence.green``
can be imported -- and eventlet patch the standard library -- before SQLAlchemy
imports ``ssl`` and ``socket`` (a ``ssl`` imported before the patch recurses
forever on the first TLS connection, to Vault for instance).
"""

import importlib
import warnings

# eventlet announces its deprecation on import; the choice is recorded in the
# README's design notes, and the notice would otherwise open every log.
warnings.filterwarnings("ignore", message="Eventlet is deprecated")

_WHERE = {
    "CredentialSource": "engine",
    "create_engine": "engine",
    "make_metadata": "migrations",
    "upgrade": "migrations",
    "Database": "provider",
    "DatabaseAccess": "provider",
    "plain": "rows",
    "array_rows": "rows",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"confide_persistence.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'confide_persistence' has no attribute {name!r}")
