import psycopg
import pytest
from confide_testing import random_id
from psycopg import sql


@pytest.fixture
def app_database(database_factory):
    """A fresh database with a group role the Vault-issued users join, and a table
    that group may use. Dropped (database first, then role) after the test."""
    url = database_factory.create("vaultdb")
    name = url.rsplit("/", 1)[1]
    group = random_id("vault_app").replace("-", "_")
    admin = database_factory.admin_url
    conninfo = dict(host=admin.host, port=admin.port or 5432, user=admin.username, autocommit=True)
    with psycopg.connect(dbname="postgres", **conninfo) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(group)))
    with psycopg.connect(dbname=name, **conninfo) as conn:
        conn.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text)")
        conn.execute(sql.SQL("GRANT SELECT, INSERT ON notes TO {}").format(sql.Identifier(group)))
        conn.execute(sql.SQL("GRANT USAGE ON SEQUENCE notes_id_seq TO {}").format(sql.Identifier(group)))
    yield {"url": url, "name": name, "group": group}
    database_factory.drop(name)
    with psycopg.connect(dbname="postgres", **conninfo) as conn:
        for (member,) in conn.execute(
            "SELECT m.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
            "JOIN pg_roles m ON m.oid = a.member WHERE g.rolname = %s", (group,)
        ).fetchall():
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(member)))
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(group)))
