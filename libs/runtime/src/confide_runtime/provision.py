"""A service's database, as every deployment makes it: ``make run``, the compose
bootstrap job and the cluster's bootstrap Job run the same code.

Per service ``<prefix>_<name>``:

- the database, owned by ``<prefix>_<name>_owner`` (NOLOGIN): migrations run as
  a short-lived Vault user whose sessions act as this role, so the schema
  belongs to it and the user can be dropped when its lease ends;
- ``<prefix>_<name>_app`` (NOLOGIN): the group the service's own Vault users
  join, with only the manifest's table privileges (audit: SELECT and INSERT).

``confide-migrate NAME`` then migrates with Vault-issued owner credentials and
grants the group its privileges.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

import psycopg
from psycopg import sql

from confide_runtime.manifest import ServiceManifest, find


def _ensure_role(conn: psycopg.Connection, name: str) -> None:
    if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))


def prepare_database(admin_url: str, manifest: ServiceManifest, prefix: str) -> str:
    """Create the roles and the database (idempotent); returns the database's
    URL without a user, for the service and its migrations."""
    database, owner, group = manifest.database(prefix), manifest.owner_role(prefix), manifest.group_role(prefix)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        _ensure_role(conn, owner)
        _ensure_role(conn, group)
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database),
                                                                      sql.Identifier(owner)))
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database), sql.Identifier(owner)))
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    host, port = info.get("host", "127.0.0.1"), info.get("port", "5432")
    with psycopg.connect(psycopg.conninfo.make_conninfo(admin_url, dbname=database), autocommit=True) as conn:
        _adopt(conn, owner)
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(group)))
    return f"postgresql+psycopg://{host}:{port}/{database}"


def _adopt(conn: psycopg.Connection, owner: str) -> None:
    """A database migrated before migrations ran as the owner (an older local
    stack): hand what is in it to the owner."""
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
    rows = conn.execute(
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relispartition IS NOT TRUE "
        "AND pg_get_userbyid(c.relowner) <> %s AND NOT EXISTS ("
        "  SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND c.relkind = 'S')",
        (owner,)).fetchall()
    for name, kind in rows:
        conn.execute(sql.SQL("ALTER {} {} OWNER TO {}").format(sql.SQL(kinds[kind]), sql.Identifier(name),
                                                              sql.Identifier(owner)))
    functions = conn.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> %s "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')", (owner,)).fetchall()
    for (signature,) in functions:
        conn.execute(sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(sql.SQL(signature), sql.Identifier(owner)))


def admin_connection(admin_url: str) -> dict:
    """How Vault's database engine reaches PostgreSQL as the admin (for ``bootstrap``)."""
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    tls = {k: info[k] for k in ("sslmode", "sslrootcert") if info.get(k)}  # Vault's driver reads these too
    return {"pg_host": info.get("host", "127.0.0.1"), "pg_port": int(info.get("port", 5432)),
            "pg_admin_user": info.get("user", "postgres"), "pg_admin_password": info.get("password", ""),
            "pg_tls": tls or {"sslmode": "disable"}}


def migrate(manifest: ServiceManifest, url: str, prefix: str) -> None:
    """Migrate (``url`` carries credentials that act as the owner) and grant the
    service's group what its manifest says."""
    from confide_persistence import upgrade

    upgrade(manifest.migrations_path(), url)
    group = sql.Identifier(manifest.group_role(prefix))
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(sql.SQL("GRANT {} ON ALL TABLES IN SCHEMA public TO {}").format(
            sql.SQL(manifest.table_privileges), group))
        conn.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(group))
        for table, privileges in manifest.extra_grants.items():
            conn.execute(sql.SQL("GRANT {} ON {} TO {}").format(sql.SQL(privileges), sql.Identifier(table), group))


def with_credentials(url: str, user: str, password: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(username=user, password=password).render_as_string(hide_password=False)


def migrate_with_vault(manifest: ServiceManifest, database_url: str, vault, prefix: str) -> None:
    """Owner credentials from Vault (``database/creds/<name>-migrate``), used
    once and revoked."""
    from confide_vault import DynamicDatabaseCredentials

    credentials = DynamicDatabaseCredentials(vault, f"{manifest.name}-migrate")
    try:
        user, password = credentials.current()
        migrate(manifest, with_credentials(database_url, user, password), prefix)
    finally:
        credentials.close(revoke=True)


def pending(manifest: ServiceManifest, url: str) -> list[str]:
    """The migration heads the database at ``url`` is not at yet (empty: up to date)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from confide_persistence.migrations import alembic_config
    from sqlalchemy import create_engine

    package = manifest.migrations.partition(":")[0]
    table = getattr(importlib.import_module(f"{package}.models"), "VERSION_TABLE", f"alembic_version_{manifest.name}")
    heads = set(ScriptDirectory.from_config(alembic_config(manifest.migrations_path(), url)).get_heads())
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn, opts={"version_table": table}).get_current_heads())
    finally:
        engine.dispose()
    return sorted(heads - current)


def wait_for_migrations(manifest: ServiceManifest, database_url: str, vault, timeout: float) -> None:
    """A Deployment's init container: wait (as the service itself) until its
    migration Job has brought the database to head."""
    from confide_vault import DynamicDatabaseCredentials

    credentials = DynamicDatabaseCredentials(vault, manifest.name)
    deadline = time.monotonic() + timeout
    try:
        while True:
            user, password = credentials.current()
            try:
                missing = pending(manifest, with_credentials(database_url, user, password))
            except Exception as exc:  # noqa: BLE001 - not there yet (no tables, no grants): wait
                missing = [f"({type(exc).__name__})"]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"confide-migrate {manifest.name}: still not at {', '.join(missing)} after "
                                 f"{timeout:.0f}s; has its migration Job run?")
            time.sleep(2)
    finally:
        credentials.close(revoke=True)


def main(argv: list[str] | None = None) -> int:
    """``confide-migrate NAME``: the migration Job of a service (compose, cluster)."""
    parser = argparse.ArgumentParser(prog="confide-migrate", description=main.__doc__.split(": ", 1)[1])
    parser.add_argument("service")
    parser.add_argument("--database-prefix", default=os.environ.get("CONFIDE_DATABASE_PREFIX", "confide"))
    parser.add_argument("--wait", action="store_true",
                        help="do not migrate: wait until the database is at head (a Deployment's init container)")
    parser.add_argument("--timeout", type=float, default=900, help="how long --wait waits, in seconds")
    args = parser.parse_args(argv)
    manifest = find(args.service)
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("confide-migrate: missing setting DATABASE_URL "
                         "(host, port and database; Vault gives the user)")
    from confide_vault import VaultClient, VaultError

    try:
        vault = VaultClient.from_env()
        if args.wait:
            wait_for_migrations(manifest, url, vault, args.timeout)
        else:
            migrate_with_vault(manifest, url, vault, args.database_prefix)
    except VaultError as exc:
        raise SystemExit(f"confide-migrate {manifest.name}: {exc}") from None
    print(f"confide-migrate: {manifest.name} is at head", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
