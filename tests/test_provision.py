"""A service's database as every deployment makes it (``confide_runtime.provision``):
owned by its owner role, migrated by a user acting as that owner, its group given
only the manifest's privileges -- and a database an older `make run` migrated as
the admin is handed to the owner, so upgrading a local stack needs no reset."""

import psycopg
import pytest
from confide_persistence import upgrade
from confide_runtime.manifest import discover
from confide_runtime.provision import migrate, pending, prepare_database, with_credentials
from confide_testing import random_id
from psycopg import sql

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def prefix():
    prefix = random_id("prov").replace("-", "_")
    yield prefix
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix + "%",)):
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        for (name,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s ORDER BY rolname DESC",
                                    (prefix + "%",)).fetchall():
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def migrator(prefix: str, owner: str) -> tuple[str, str]:
    """What Vault's ``<service>-migrate`` role makes: a login that acts as the owner."""
    user, password = f"{prefix}_migrator", random_id("pw")
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
            sql.Identifier(user), sql.Literal(password), sql.Identifier(owner)))
        conn.execute(sql.SQL("ALTER ROLE {} SET role = {}").format(sql.Identifier(user), sql.Literal(owner)))
    return user, password


@pytest.mark.parametrize("earlier_make_run", [False, True], ids=["fresh", "migrated-by-admin-before"])
def test_owned_migrated_and_granted_least_privilege(prefix, earlier_make_run):
    audit = next(m for m in discover() if m.name == "audit")
    database = audit.database(prefix)
    if earlier_make_run:  # as make run did before migrations ran as the owner
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        upgrade(audit.migrations_path(), f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}")
    url = prepare_database(ADMIN, audit, prefix)
    assert url == f"postgresql+psycopg://127.0.0.1:5432/{database}"
    owner, group = audit.owner_role(prefix), audit.group_role(prefix)
    user, password = migrator(prefix, owner)
    as_owner = with_credentials(url, user, password)
    migrate(audit, as_owner, prefix)
    assert pending(audit, as_owner) == []
    with psycopg.connect(ADMIN, dbname=database) as conn:
        owners = {o for (o,) in conn.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")}
        assert owners == {owner}
        assert conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                            (database,)).fetchone()[0] == owner
        # the append-only log: its group may read and add, never change
        rights = {p for (p,) in conn.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = %s AND table_name = 'audit_entries'", (group,))}
        assert rights == {"SELECT", "INSERT"}
