"""A service under test, run as every deployment runs it.

Its database is made by ``confide_runtime.provision`` (the code ``make run``,
compose and the cluster's bootstrap use): owned by ``<prefix>_<name>_owner``,
migrated as that owner, and the service connects as a login member of its group
role ``<prefix>_<name>_app``, with only the privileges its manifest grants. A
missing grant fails the test that needs it, as it would fail in production. The
test itself gets an administrator's engine on the same database, to look at or
tamper with what the service wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import Engine, make_url

from confide_testing.helpers import random_id


@dataclass
class ServiceDatabase:
    """Roles and database of one service under a random prefix (dropped by :meth:`drop`)."""

    admin_url: str
    manifest: Any  # confide_runtime.ServiceManifest
    prefix: str = field(default_factory=lambda: random_id("t").replace("-", "_"))
    roles: list[str] = field(default_factory=list)

    def create(self) -> ServiceDatabase:
        from confide_runtime.provision import migrate, prepare_database

        m = self.manifest
        owner = m.owner_role(self.prefix)
        self.roles += [f"{self.prefix}_{m.name}_service", f"{self.prefix}_{m.name}_migrator",
                       m.group_role(self.prefix), owner]
        prepare_database(self._psycopg_admin(), m, self.prefix)
        migrator, service = self.roles[1], self.roles[0]
        with self._admin() as conn:
            # as Vault's database engine makes a migration user: a member acting as the owner
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(sql.Identifier(migrator),
                                                                         sql.Identifier(owner)))
            conn.execute(sql.SQL("ALTER ROLE {} SET role = {}").format(sql.Identifier(migrator),
                                                                       sql.Identifier(owner)))
            # and the service's own user: a member of the group, nothing else
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(
                sql.Identifier(service), sql.Identifier(m.group_role(self.prefix))))
        migrate(m, self.url_as(migrator), self.prefix)
        return self

    @property
    def name(self) -> str:
        return self.manifest.database(self.prefix)

    def url_as(self, user: str | None) -> str:
        url = make_url(self.admin_url).set(drivername="postgresql+psycopg", database=self.name)
        if user is not None:
            url = url.set(username=user, password=None)
        return url.render_as_string(hide_password=False)

    @property
    def service_url(self) -> str:
        """How the service connects: its own user, in its group role only."""
        return self.url_as(self.roles[0])

    @property
    def admin_database_url(self) -> str:
        return self.url_as(None)

    def drop(self) -> None:
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
            for role in self.roles:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))

    def _psycopg_admin(self) -> str:
        return make_url(self.admin_url).set(drivername="postgresql").render_as_string(hide_password=False)

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(self._psycopg_admin(), autocommit=True)


@dataclass
class RunningService:
    """What ``running_service(name)`` gives a test."""

    name: str
    container: Any  # nameko ServiceContainer
    database: ServiceDatabase
    engine: Engine  # an administrator's, on the service's database
    transit: Any = None  # confide_vault.Transit holding the service's keys, if it has any
    settings: dict[str, Any] = field(default_factory=dict)
