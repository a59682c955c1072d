"""Tampering as a database superuser who drops the triggers: verify catches
each kind and names the sequence number."""

import pytest
from audit_support import officer
from confide_audit.domain.entry import GENESIS, canonical, chain_link, facts_from_row
from confide_audit.models import entries
from confide_testing import wait_until
from confide_tlog.merkle import leaf_hash
from sqlalchemy import func, select, text

SITE = "site-t"


@pytest.fixture
def trail(rpc_client, audit, producer, audit_db):
    """20 entries in one chain, checkpointed at 20; then the service verifies clean."""
    producer.access(20, sites=(SITE,))
    with rpc_client() as rpc:
        wait_until(lambda: count(audit_db) == 20)
        rpc.audit.checkpoint_now(officer())
        assert rpc.audit.verify(officer())["ok"]
    with audit_db.connect() as conn:
        chain = conn.execute(select(entries.c.chain).where(entries.c.site_id == SITE).limit(1)).scalar_one()
    return chain


def count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(entries).where(entries.c.producer == "records")
        ).scalar_one()


def tamper(engine, *statements, params=None):
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        conn.execute(text("ALTER TABLE audit_checkpoints DISABLE TRIGGER USER"))
        for partition in conn.execute(text(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'audit_entries'::regclass"
        )).scalars():
            conn.execute(text(f"ALTER TABLE {partition} DISABLE TRIGGER USER"))
        for statement in statements:
            conn.execute(text(statement), params or {})


def first_fault(rpc_client, chain):
    with rpc_client() as rpc:
        report = rpc.audit.verify(officer())
    assert not report["ok"]
    [mine] = [c for c in report["chains"] if c["chain"] == chain]
    return mine["faults"][0]


def test_changed_field(rpc_client, trail, audit_db):
    tamper(audit_db, f"UPDATE audit_entries SET actor_id = 'innocent' WHERE chain = {trail} AND seq = 7")
    fault = first_fault(rpc_client, trail)
    assert (fault["seq"], fault["kind"]) == (7, "modified")


def test_deleted_entry(rpc_client, trail, audit_db):
    tamper(audit_db, f"DELETE FROM audit_entries WHERE chain = {trail} AND seq = 5")
    fault = first_fault(rpc_client, trail)
    assert (fault["seq"], fault["kind"]) == (5, "deleted")


def test_deleted_entry_with_the_rest_renumbered(rpc_client, trail, audit_db):
    tamper(audit_db,
           f"DELETE FROM audit_entries WHERE chain = {trail} AND seq = 5",
           f"UPDATE audit_entries SET seq = seq - 1 WHERE chain = {trail} AND seq > 5")
    fault = first_fault(rpc_client, trail)
    assert (fault["seq"], fault["kind"]) == (5, "deleted")


def test_inserted_entry(rpc_client, trail, audit_db):
    """A forged entry at seq 9 with hashes computed the way the service would."""
    with audit_db.connect() as conn:
        row = conn.execute(select(entries).where(entries.c.chain == trail, entries.c.seq == 8)).one()
    facts = facts_from_row(row)
    forged = facts.__class__(**{**facts.__dict__, "event_id": "forged", "actor_id": "nobody"})
    leaf = leaf_hash(canonical(trail, 9, row.recorded_at, forged))
    values = {**forged.__dict__, "chain": trail, "seq": 9, "recorded_at": row.recorded_at,
              "leaf_hash": leaf, "chain_hash": chain_link(bytes(row.chain_hash), leaf)}
    columns = ", ".join(values)
    tamper(audit_db,
           f"UPDATE audit_entries SET seq = seq + 1 WHERE chain = {trail} AND seq >= 9",
           f"INSERT INTO audit_entries ({columns}) VALUES ({', '.join(':' + c for c in values)})",
           params=values)
    fault = first_fault(rpc_client, trail)
    assert (fault["seq"], fault["kind"]) == (9, "inserted")


def test_swapped_entries(rpc_client, trail, audit_db):
    tamper(audit_db,
           f"UPDATE audit_entries SET seq = -1 WHERE chain = {trail} AND seq = 12",
           f"UPDATE audit_entries SET seq = 12 WHERE chain = {trail} AND seq = 13",
           f"UPDATE audit_entries SET seq = 13 WHERE chain = {trail} AND seq = -1")
    fault = first_fault(rpc_client, trail)
    assert (fault["seq"], fault["kind"]) == (12, "reordered")


def test_altered_and_rehashed_is_caught_by_the_signed_root(rpc_client, trail, audit_db):
    """The attacker recomputes every hash after the change: only the signed
    checkpoint can tell, and verify says which entries it covers."""
    tamper(audit_db, f"UPDATE audit_entries SET purpose = 'emergency' WHERE chain = {trail} AND seq = 3")
    with audit_db.connect() as conn:
        rows = conn.execute(select(entries).where(entries.c.chain == trail).order_by(entries.c.seq)).all()
    previous, statements = GENESIS, []
    for row in rows:
        leaf = leaf_hash(canonical(trail, row.seq, row.recorded_at, facts_from_row(row)))
        previous = chain_link(previous, leaf)
        statements.append(f"UPDATE audit_entries SET leaf_hash = '\\x{leaf.hex()}', "
                          f"chain_hash = '\\x{previous.hex()}' WHERE chain = {trail} AND seq = {row.seq}")
    tamper(audit_db, *statements)
    fault = first_fault(rpc_client, trail)
    assert fault["kind"] == "root_mismatch"
    assert "entries 0..19" in fault["detail"]


def test_forged_checkpoint(rpc_client, trail, audit_db):
    tamper(audit_db, f"UPDATE audit_checkpoints SET note = replace(note, E'\\n20\\n', E'\\n19\\n'), size = 19 "
                     f"WHERE chain = {trail}")
    fault = first_fault(rpc_client, trail)
    assert fault["kind"] == "bad_signature"


def test_untouched_trail_verifies(rpc_client, trail):
    with rpc_client() as rpc:
        assert rpc.audit.verify(officer())["ok"]


UTC = "recorded_at AT TIME ZONE 'UTC'"
SAME_INSTANT_BC = (f"make_timestamptz(-extract(year FROM {UTC})::int, extract(month FROM {UTC})::int, "
                   f"extract(day FROM {UTC})::int, extract(hour FROM {UTC})::int, extract(minute FROM {UTC})::int, "
                   f"extract(second FROM {UTC}), 'UTC')")


@pytest.mark.parametrize("moved", [SAME_INSTANT_BC, "'infinity'"])
def test_a_time_moved_outside_what_an_entry_can_hold(rpc_client, trail, audit_db, moved):
    """The same instant BC (which to_char writes as the year AD) or infinity: found, and verify still answers."""
    tamper(audit_db, f"UPDATE audit_entries SET recorded_at = {moved} WHERE chain = {trail} AND seq = 4")
    fault = first_fault(rpc_client, trail)
    assert (fault["seq"], fault["kind"]) == (4, "modified")
