"""The database refuses to change the log: triggers for every role, privileges
for the service's own users."""

import psycopg
import pytest
from audit_support import MIGRATIONS
from confide_audit.models import APPEND_ONLY_TABLES, VERSION_TABLE, metadata
from confide_persistence.migrations import differences, heads
from confide_testing import random_id
from psycopg import sql
from sqlalchemy import text


def test_one_head_and_models_match_migrations(audit_db):
    assert heads(MIGRATIONS) == ["0004"]
    diff = differences(audit_db.url.render_as_string(hide_password=False), metadata, VERSION_TABLE)
    assert [d for d in diff if not (d[0] == "add_table" and d[1].name.startswith("audit_entries_y"))] == []


def insert_entry(conn):
    conn.execute(text("SELECT audit_ensure_partition(DATE '2026-11-01')"))
    conn.execute(text("""
        INSERT INTO audit_entries (chain, seq, occurred_at, recorded_at, event_id, event_type, producer,
            actor_id, actor_role, action, outcome, resource_type, purpose, break_glass, leaf_hash, chain_hash)
        VALUES (0, 0, '2026-11-28T10:00:00Z', now(), 'e1', 'records.access.recorded', 'records',
            'dr-1', 'clinician', 'read', 'allowed', 'Note', 'treatment', false, '\\x00', '\\x00')
    """))


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET actor_id = 'someone-else'",
    "DELETE FROM audit_entries",
    "TRUNCATE audit_entries",
    "TRUNCATE audit_entries_y2026m11",
    "UPDATE audit_entries_y2026m11 SET outcome = 'denied'",
    "DELETE FROM audit_entries_y2026m11 WHERE seq = 99",
    "UPDATE audit_checkpoints SET note = 'x'",
    "DELETE FROM audit_cosignatures",
    "DELETE FROM audit_linked_logins",
    "DELETE FROM audit_ingested",
])
def test_even_the_owner_cannot_change_the_log(audit_db, statement):
    with audit_db.begin() as conn:
        insert_entry(conn)
    with pytest.raises(Exception, match="append-only"), audit_db.begin() as conn:
        conn.execute(text(statement))
    with audit_db.connect() as conn:
        assert conn.execute(text("SELECT actor_id FROM audit_entries")).scalars().all() == ["dr-1"]


def test_every_table_is_guarded(audit_db):
    with audit_db.connect() as conn:
        guarded = set(conn.execute(text(
            "SELECT DISTINCT event_object_table FROM information_schema.triggers "
            "WHERE action_statement ~ 'audit_(refuse_change|entries_guard|entries_statement_guard)'"
        )).scalars())
    assert set(APPEND_ONLY_TABLES) <= guarded


def test_service_role_may_only_insert_and_select(audit_db, database_factory):
    role = random_id("audit_app").replace("-", "_")
    url = audit_db.url
    admin = dict(host=url.host, port=url.port or 5432, user=url.username, autocommit=True)
    with psycopg.connect(dbname=url.database, **admin) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        ident = sql.Identifier(role)
        conn.execute(sql.SQL("GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {}").format(ident))
        conn.execute(sql.SQL("GRANT EXECUTE ON FUNCTION audit_ensure_partition(date) TO {}").format(ident))
    try:
        with psycopg.connect(dbname=url.database, host=url.host, port=url.port or 5432, user=role) as conn:
            # may add partitions (through the owner's function) and entries
            conn.execute("SELECT audit_ensure_partition(DATE '2027-01-01')")
            conn.execute("SELECT count(*) FROM audit_entries")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("UPDATE audit_checkpoints SET note = 'x'")
            conn.rollback()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("CREATE TABLE sneaky (id int)")
    finally:
        database_factory.drop(url.database)
        with psycopg.connect(dbname="postgres", **admin) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_partitions_are_made_once_when_chains_race(audit_db):
    import threading

    errors = []

    def make():
        try:
            with audit_db.begin() as conn:
                conn.execute(text("SELECT audit_ensure_partition(DATE '2031-05-01')"))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=make) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with audit_db.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('audit_entries_y2031m05') IS NOT NULL")).scalar_one()
