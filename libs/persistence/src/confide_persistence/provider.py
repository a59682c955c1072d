"""The nameko dependency that hands each worker a database in one transaction.

The transaction is explicit (``with self.db.transaction() as session:``) rather
than committed in ``worker_result``: nameko sends an RPC reply *before* it calls
``worker_result``, and DESIGN.md's "audit first" needs the commit to happen
before any data leaves the service.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from nameko import config
from nameko.extensions import DependencyProvider
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from confide_persistence.engine import CredentialSource, create_engine

log = logging.getLogger(__name__)


class ConfigurationError(RuntimeError):
    pass


def engine_from_config(
    url_key: str, credentials_factory=None, *, application_name: str, pool_size: int = 10
) -> Engine:
    """An engine for the database named by ``config[url_key]``.

    Credentials come from ``credentials_factory`` if given, else from
    ``config["DATABASE_CREDENTIALS"]`` (Vault dynamic credentials, set by
    ``confide-serve``), else from the URL itself (tests, development). When
    Vault rotates the user, the pool drops connections of the old one.
    """
    url = config.get(url_key)
    if not url:
        raise ConfigurationError(f"missing setting {url_key}")
    credentials: CredentialSource | None = (
        credentials_factory() if credentials_factory is not None else config.get("DATABASE_CREDENTIALS")
    )
    engine = create_engine(
        url, credentials=credentials, pool_size=pool_size, application_name=application_name
    )
    if credentials is not None and hasattr(credentials, "on_rotate"):
        credentials.on_rotate.append(lambda _lease: engine.dispose())
    return engine


class DatabaseAccess:
    """What a worker gets: transactions on the service's database."""

    def __init__(self, engine: Engine, sessions: sessionmaker[Session]) -> None:
        self.engine = engine
        self._sessions = sessions
        self._open: list[Session] = []

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled
        back if it raises. The commit has happened when the block exits."""
        session = self._sessions()
        self._open.append(session)
        try:
            with session.begin():
                yield session
        finally:
            session.close()
            self._open.remove(session)

    def close(self) -> None:
        for session in list(self._open):
            session.rollback()
            session.close()
        self._open.clear()


class Database(DependencyProvider):
    """``db = Database()`` on a service.

    Configuration (nameko config): ``DATABASE_URL``; optionally ``DATABASE_POOL_SIZE``.
    When a :class:`CredentialSource` factory is given (Vault dynamic credentials),
    the user and password in the URL are ignored.
    """

    access_class: type[DatabaseAccess] = DatabaseAccess

    def __init__(self, url_key: str = "DATABASE_URL", credentials_factory=None) -> None:
        self.url_key = url_key
        self.credentials_factory = credentials_factory
        self.engine: Engine | None = None
        self._workers: dict[Any, DatabaseAccess] = {}

    def setup(self) -> None:
        self.engine = engine_from_config(
            self.url_key,
            self.credentials_factory,
            application_name=self.container.service_name,
            pool_size=int(config.get("DATABASE_POOL_SIZE", 10)),
        )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    def kill(self) -> None:
        self.stop()

    def make_access(self) -> DatabaseAccess:
        return self.access_class(self.engine, self.sessions)

    def get_dependency(self, worker_ctx) -> Any:
        access = self.make_access()
        self._workers[worker_ctx] = access
        return access

    def worker_teardown(self, worker_ctx) -> None:
        access = self._workers.pop(worker_ctx, None)
        if access is not None:
            access.close()
