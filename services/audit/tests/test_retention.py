"""Retention: entries past six years are purged oldest first, never under a
legal hold; the database itself refuses any other delete; verification and
proofs still hold for what remains."""

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from audit_support import officer
from confide_audit import retention, store
from confide_audit.domain.chain import append
from confide_audit.domain.checkpoint import verify_note
from confide_audit.domain.entry import AccessFacts
from confide_audit.models import entries, purges
from confide_testing import caller, random_id
from nameko.exceptions import RemoteError
from rfc6962 import independent_root_from_path
from sqlalchemy import func, select, text

CHAIN = 0
LONG_AGO = datetime.now(UTC) - timedelta(days=7 * 365)


def facts(client_id: str, at: datetime) -> AccessFacts:
    return AccessFacts(
        event_id=str(uuid.uuid4()), event_type="records.access.recorded", producer="records", occurred_at=at,
        actor_id="dr-old", actor_role="clinician", on_behalf_of=None, site_id="site-r", action="read",
        outcome="allowed", resource_type="Note", resource_id="note-1", client_id=client_id, purpose="treatment",
        reason=None, break_glass=False, break_glass_reason=None, source_address=None, user_agent=None,
        recipient=None, trace_id=None)


def write(engine, batch: list[AccessFacts], recorded_at: datetime) -> None:
    """Append as the chain's writer does, with a chosen clock."""
    with engine.begin() as conn:
        store.lock_chain(conn, CHAIN)
        store.write_batch(conn, append(store.load_head(conn, CHAIN), batch, recorded_at))


@pytest.fixture
def rpc(rpc_client, audit):
    with rpc_client() as client:
        yield client


@pytest.fixture
def old_trail(rpc, audit_db):
    """600 entries from seven years ago (clients c-0..c-5), checkpointed, then
    50 from today, checkpointed again."""
    clients = [random_id(f"c-{i}") for i in range(6)]
    old = [facts(clients[i % 6], LONG_AGO + timedelta(minutes=i)) for i in range(600)]
    write(audit_db, old[:300], LONG_AGO)
    write(audit_db, old[300:], LONG_AGO + timedelta(hours=12))
    rpc.audit.checkpoint_now(officer())
    write(audit_db, [facts(clients[0], datetime.now(UTC)) for _ in range(50)], datetime.now(UTC))
    rpc.audit.checkpoint_now(officer())
    return clients


def seqs(engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(entries.c.seq).where(entries.c.chain == CHAIN, entries.c.actor_id == "dr-old")
                                 .order_by(entries.c.seq)).scalars())


def chain_report(rpc) -> dict:
    report = rpc.audit.verify(officer())
    return next(c for c in report["chains"] if c["chain"] == CHAIN)


def test_purge_takes_whole_tiles_past_retention_and_the_log_still_verifies(rpc, audit_db, old_trail):
    before = seqs(audit_db)
    [result] = [r for r in retention.purge(audit_db, purged_by="ops-1") if r.chain == CHAIN]
    # 600 old entries: the horizon is the last tile boundary before the first young one
    assert (result.first_seq, result.purged, result.held_back_by) == (512, 512, None)
    after = seqs(audit_db)
    assert after == [s for s in before if s >= 512]
    assert len(after) == len(before) - 512
    report = chain_report(rpc)
    assert report["ok"], report["faults"]
    assert report["first_seq"] == 512
    # an entry that remains still proves its inclusion against the latest checkpoint
    keys = [base64.b64decode(k) for k in rpc.audit.checkpoints(officer())["public_keys"]]
    for seq in (512, 599, after[-1]):
        answer = rpc.audit.prove_inclusion(officer(), CHAIN, seq)
        cp = verify_note(answer["checkpoint"], "confide.test/audit", keys[0])
        proof = [base64.b64decode(p) for p in answer["proof"]]
        assert independent_root_from_path(base64.b64decode(answer["canonical"]), seq, cp.size, proof) == cp.root_hash
    # a second purge finds nothing more to take
    [again] = [r for r in retention.purge(audit_db) if r.chain == CHAIN]
    assert (again.first_seq, again.purged) == (512, 0)


def test_a_forged_purge_record_is_caught(rpc, audit_db, old_trail):
    retention.purge(audit_db)
    with audit_db.begin() as conn:
        conn.execute(text("ALTER TABLE audit_purges DISABLE TRIGGER USER"))
        conn.execute(purges.update().where(purges.c.chain == CHAIN).values(chain_hash=b"\x00" * 32))
    report = chain_report(rpc)
    assert not report["ok"]
    assert report["faults"][0]["seq"] == 512


def test_a_hold_on_a_client_keeps_everything_from_their_first_entry(rpc, audit_db, old_trail):
    held = old_trail[3]  # first entry at seq 3: nothing before a tile boundary is free
    hold = rpc.audit.place_legal_hold(officer(), {"client_id": held, "reason": "litigation 2026-CV-114"})
    [result] = [r for r in retention.purge(audit_db) if r.chain == CHAIN]
    assert (result.purged, result.held_back_by) == (0, "a legal hold on a client")
    assert len(seqs(audit_db)) == 650
    rpc.audit.release_legal_hold(officer(), hold["id"], "case settled")
    [result] = [r for r in retention.purge(audit_db) if r.chain == CHAIN]
    assert result.purged == 512
    listed = rpc.audit.legal_holds(officer())
    [mine] = [h for h in listed["holds"] if h["id"] == hold["id"]]
    assert (mine["active"], mine["release_reason"]) == (False, "case settled")
    assert listed["chains_start_at"][str(CHAIN)] == 512


def test_a_hold_on_the_whole_log_stops_every_purge(rpc, audit_db, old_trail):
    hold = rpc.audit.place_legal_hold(officer(), {"reason": "regulator's investigation"})
    try:
        results = retention.purge(audit_db)
        assert all(r.purged == 0 and r.held_back_by == "a legal hold on the whole log" for r in results)
        assert len(seqs(audit_db)) == 650
    finally:
        rpc.audit.release_legal_hold(officer(), hold["id"], "closed")
    with pytest.raises(RemoteError) as released_twice:
        rpc.audit.release_legal_hold(officer(), hold["id"], "closed again")
    assert "hold_id" in str(released_twice.value)


def deleting(engine, where: str, horizon: int | None = None) -> None:
    with engine.begin() as conn:
        if horizon is not None:
            conn.execute(purges.insert().values(chain=CHAIN, first_seq=horizon, chain_hash=b"x", frontier=[],
                                                cutoff=datetime.now(UTC), purged=0, purged_by="forger"))
        conn.execute(text("SET LOCAL confide.audit_purge = 'on'"))
        conn.execute(text(f"DELETE FROM audit_entries WHERE chain = {CHAIN} AND {where}"))


def test_the_database_refuses_every_other_delete_even_for_the_owner(rpc, audit_db, old_trail):
    young = seqs(audit_db)[-1]
    with pytest.raises(Exception, match="append-only"):
        deleting(audit_db, "seq = 5")  # not below any recorded horizon
    with pytest.raises(Exception, match="append-only"):
        deleting(audit_db, f"seq = {young}", horizon=young + 1)  # within retention
    rpc.audit.place_legal_hold(officer(), {"client_id": old_trail[5], "reason": "subpoena"})
    with pytest.raises(Exception, match="append-only"):
        deleting(audit_db, "seq = 5", horizon=256)  # c-5's entry, under hold
    with pytest.raises(Exception, match="append-only"), audit_db.begin() as conn:
        conn.execute(text("TRUNCATE audit_entries"))
    assert len(seqs(audit_db)) == 650


def test_holds_are_for_officers_and_name_bad_fields(rpc, audit_db):
    clinician = caller()
    with pytest.raises(RemoteError) as denied:
        rpc.audit.place_legal_hold(clinician, {"client_id": "c-1", "reason": "mine"})
    assert denied.value.exc_type == "AccessDenied"
    with pytest.raises(RemoteError) as bad:
        rpc.audit.place_legal_hold(officer(), {"client_id": "c-1"})
    assert bad.value.exc_type == "InvalidRequest" and "reason" in str(bad.value)
    with pytest.raises(RemoteError) as unknown:
        rpc.audit.release_legal_hold(officer(), str(uuid.uuid4()), "never placed")
    assert unknown.value.exc_type == "NotFound"
    with audit_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(retention.legal_holds)).scalar() == 0


def test_the_purge_command(rpc, audit_db, old_trail, capsys):
    url = audit_db.url.render_as_string(hide_password=False)
    assert retention.main(["--database-url", url, "--by", "ops-1"]) == 0
    assert f"chain {CHAIN}: purged 512, now starts at seq 512" in capsys.readouterr().out
    with audit_db.connect() as conn:
        assert conn.execute(select(purges.c.purged_by).where(purges.c.chain == CHAIN)).scalar() == "ops-1"
