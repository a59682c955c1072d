"""Engine construction: psycopg 3 driver, pre-ping, SQL spans, and credentials
that can change under a running pool (Vault dynamic database users)."""

from __future__ import annotations

import logging
from typing import Protocol

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

log = logging.getLogger(__name__)


class CredentialSource(Protocol):
    """Something that hands out the current database user and password."""

    def current(self) -> tuple[str, str]: ...

    def replace(self) -> tuple[str, str]:
        """Drop the current credentials (they no longer work) and get new ones."""
        ...


def normalise_url(url: str | URL) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername != "postgresql+psycopg":
        raise ValueError(f"only PostgreSQL through psycopg 3 is supported, got {parsed.drivername}")
    return parsed


def _is_auth_failure(exc: BaseException) -> bool:
    """The server refused these credentials (as opposed to being down, or the
    database missing): only then is fetching new ones worth it."""
    text = str(exc).lower()
    return (
        "password authentication failed" in text
        or "not permitted to log in" in text
        or ('role "' in text and "does not exist" in text)
    )


def create_engine(
    url: str | URL,
    *,
    credentials: CredentialSource | None = None,
    pool_size: int = 10,
    application_name: str | None = None,
    **kwargs,
) -> Engine:
    """A SQLAlchemy engine for ``url``.

    With ``credentials``, each new connection uses the current user and password
    from it; when the server refuses them (revoked or expired lease), new ones
    are fetched once and the connection is retried, so the caller never sees the
    rotation.
    """
    connect_args = kwargs.pop("connect_args", {})
    if application_name:
        connect_args.setdefault("application_name", application_name)
    engine = sqlalchemy.create_engine(
        normalise_url(url),
        pool_pre_ping=True,
        hide_parameters=True,  # an error's text must not quote a client's data into logs or spans
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args=connect_args,
        **kwargs,
    )
    if credentials is not None:

        @event.listens_for(engine, "do_connect")
        def _connect_with_current_credentials(dialect, conn_rec, cargs, cparams):
            user, password = credentials.current()
            cparams.update(user=user, password=password)
            try:
                return dialect.connect(*cargs, **cparams)
            except dialect.loaded_dbapi.OperationalError as exc:
                if not _is_auth_failure(exc):
                    raise
                log.warning("database credentials refused; fetching new ones from Vault")
                user, password = credentials.replace()
                cparams.update(user=user, password=password)
                return dialect.connect(*cargs, **cparams)

    return engine
