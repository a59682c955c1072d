"""The trail against its own operator. Whoever runs the audit service can
disable its triggers and sign with its key: rewrite history and re-sign it, or
cut the tail off with its checkpoints. Verification from our own database alone
cannot see that; a witness that cosigned the earlier checkpoints can. Here the
audit service offers each checkpoint to a real witness (services/witness, over
HTTP), and verify asks the witness what it cosigned."""

from __future__ import annotations

import json
import socket

import pytest
import requests
from audit_support import officer
from confide_audit.domain.entry import GENESIS, canonical, chain_link, facts_from_row
from confide_audit.models import checkpoints, entries
from confide_audit.service import AuditService
from confide_audit.signing import CheckpointSigner
from confide_testing import random_id, wait_until
from confide_tlog.merkle import InMemoryLeaves, leaf_hash, root
from confide_tlog.note import ED25519, Verifier
from nameko import config
from sqlalchemy import func, select, text

SITE = "site-w"
LOG = "confide.test/audit"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def witnessed_audit(audit_config, running_service, container_factory, transit):
    settings = {k: audit_config[k] for k in ("DATABASE_URL", "TRANSIT_MOUNT", "AUDIT_PARTITIONS")}
    log_key = Verifier(LOG, ED25519, transit.public_key("audit-checkpoints")).vkey
    port = free_port()
    witness = running_service("witness", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", WITNESS_NAME="witness.test/w1",
                              WITNESS_LOGS=[{"origin": f"{LOG}/chain/{c}", "vkeys": [log_key]} for c in range(2)])
    witness.base = f"http://127.0.0.1:{port}"
    vkey = requests.get(f"{witness.base}/vkey", timeout=10).text.strip()
    with config.patch({**settings, "AUDIT_WITNESSES": [{"url": witness.base, "vkey": vkey}],
                       "AUDIT_WITNESS_SECONDS": 0.2}):
        container_factory(AuditService).start()
        yield witness


def chain_of(audit_db) -> int:
    with audit_db.connect() as conn:
        return conn.execute(select(entries.c.chain).where(entries.c.site_id == SITE).limit(1)).scalar_one()


def stored(audit_db) -> int:
    with audit_db.connect() as conn:
        return conn.execute(select(func.count()).select_from(entries).where(entries.c.site_id == SITE)).scalar_one()


def cosigned(rpc, chain: int, size: int) -> bool:
    found = rpc.audit.checkpoints(officer())
    return any(c["chain"] == chain and c["size"] == size and c["witnessed"] for c in found["checkpoints"])


def grow(rpc, producer, audit_db, n: int, total: int, chain: int | None = None) -> int:
    producer.access(n, sites=(SITE,))
    wait_until(lambda: stored(audit_db) == total, what=f"{total} entries")
    rpc.audit.checkpoint_now(officer())
    chain = chain_of(audit_db) if chain is None else chain
    wait_until(lambda: cosigned(rpc, chain, total), what=f"the checkpoint of {total} cosigned by the witness")
    return chain


def as_superuser(engine, *statements):
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))  # (every trigger off)
        for statement in statements:
            conn.execute(text(statement))


def faults(rpc, chain: int) -> list[dict]:
    report = rpc.audit.verify(officer())
    [mine] = [c for c in report["chains"] if c["chain"] == chain]
    return mine["faults"]


def test_a_chain_cut_short_with_its_checkpoints_is_caught(rpc_client, witnessed_audit, producer, audit_db):
    with rpc_client() as rpc:
        chain = grow(rpc, producer, audit_db, 30, 30)
        grow(rpc, producer, audit_db, 10, 40, chain)  # (the witness checks a consistency proof 30 -> 40)
        assert faults(rpc, chain) == []
        # the operator removes the last 15 entries and every checkpoint and cosignature that covered them
        as_superuser(audit_db, f"DELETE FROM audit_entries WHERE chain = {chain} AND seq >= 25",
                     f"DELETE FROM audit_checkpoints WHERE chain = {chain} AND size > 25",
                     f"DELETE FROM audit_cosignatures WHERE chain = {chain} AND size > 25")
        [fault] = faults(rpc, chain)
    assert fault["kind"] == "deleted" and "size 40" in fault["detail"] and "ends at 25" in fault["detail"]


def test_history_rewritten_and_re_signed_by_the_service_itself_is_caught(rpc_client, witnessed_audit, producer,
                                                                         audit_db, transit):
    with rpc_client() as rpc:
        chain = grow(rpc, producer, audit_db, 30, 30)
        # the operator changes an entry, rehashes everything after it, and signs new checkpoints with the
        # service's own key (as the service would): our own database now agrees with itself
        as_superuser(audit_db, f"UPDATE audit_entries SET purpose = 'emergency' WHERE chain = {chain} AND seq = 3")
        with audit_db.connect() as conn:
            rows = conn.execute(select(entries).where(entries.c.chain == chain).order_by(entries.c.seq)).all()
        previous, statements, leaves = GENESIS, [], []
        for row in rows:
            leaf = leaf_hash(canonical(chain, row.seq, row.recorded_at, facts_from_row(row)))
            previous = chain_link(previous, leaf)
            leaves.append(leaf)
            statements.append(f"UPDATE audit_entries SET leaf_hash = '\\x{leaf.hex()}', "
                              f"chain_hash = '\\x{previous.hex()}' WHERE chain = {chain} AND seq = {row.seq}")
        signer = CheckpointSigner(transit, "audit-checkpoints", LOG)
        checkpoint, note, _ = signer.sign_root(chain, len(leaves), root(InMemoryLeaves(leaves), len(leaves)))
        statements += [f"DELETE FROM audit_cosignatures WHERE chain = {chain}",
                       f"UPDATE audit_checkpoints SET note = :note, root_hash = :root WHERE chain = {chain} "
                       f"AND size = {len(leaves)}"]
        with audit_db.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in statements:
                conn.execute(text(statement), {"note": note, "root": checkpoint.root_hash})
        with audit_db.connect() as conn:  # the rewritten checkpoint stands in our own database
            assert conn.execute(select(checkpoints.c.note).where(checkpoints.c.chain == chain)).scalar() == note
        [fault] = faults(rpc, chain)
        assert fault["kind"] == "root_mismatch"
    # and the witness refuses the re-signed checkpoint when it is offered, keeping it as evidence
    with witnessed_audit.engine.connect() as conn:
        wait_until(lambda: conn.execute(text("SELECT count(*) FROM evidence WHERE status = 422")).scalar() >= 1,
                   what="the witness refusing the re-signed checkpoint")


def test_an_auditor_outside_checks_an_export_with_pinned_keys_and_saved_checkpoints(
        rpc_client, witnessed_audit, producer, audit_db, transit, tmp_path):
    """``confide audit verify --offline``: nothing asked of the platform."""
    from confide_client.offline import read_checkpoints, verify
    from confide_contracts.audit_export import export, pages

    log_keys = [Verifier(LOG, ED25519, transit.public_key("audit-checkpoints"))]
    with rpc_client() as rpc:
        chain = grow(rpc, producer, audit_db, 30, 30)
        witness_key = Verifier.parse(rpc.audit.checkpoints(officer())["witnesses"][0])
        saved = [c["note"] for c in rpc.audit.checkpoints(officer())["checkpoints"] if c["chain"] == chain]

        def exported() -> list[str]:
            lines = "".join(export("jsonl", pages(lambda f: rpc.audit.query(officer(), f, export=True),
                                                  {"limit": 1000})))
            return [line for line in lines.splitlines() if f'"chain":{chain},' in line]

        clean = exported()
    [report] = verify(clean, saved, log_keys, [witness_key], 1)
    assert report.ok and (report.entries, report.checkpoints) == (30, 1), report.faults
    # a checkpoint the log signed but no pinned witness cosigned does not count
    unwitnessed = saved[0].rpartition("\n\u2014 witness.test/w1 ")[0] + "\n"
    [report] = verify(clean, [unwitnessed], log_keys, [witness_key], 1)
    assert report.faults and "fewer than 1" in report.faults[0]
    # the export edited after the fact, the export cut short
    edited = [line.replace('"purpose":"treatment"', '"purpose":"operations"', 1) if '"seq":4,' in line else line
              for line in clean]
    [report] = verify(edited, saved, log_keys, [witness_key], 1)
    assert report.faults == ["seq 4: modified (its facts do not hash to its leaf)"]
    [report] = verify(clean, [], log_keys, [witness_key], 1)  # nothing anchors an export on its own
    assert report.faults == ["no counted checkpoint covers this chain: nothing anchors what the export says"]
    first_20 = [line for line in clean if json.loads(line)["seq"] < 20]
    [report] = verify(first_20, saved, log_keys, [witness_key], 1)
    assert report.faults == ["checkpoint of size 30: the chain ends at 20 (entries were removed)"]
    # (saved as `confide audit checkpoints --save` writes them)
    (tmp_path / "saved.json").write_text(json.dumps([{"note": n} for n in saved]))
    assert read_checkpoints([tmp_path / "saved.json"]) == saved


def test_a_witness_that_cannot_vouch_is_a_fault_not_a_pass(rpc_client, witnessed_audit, producer, audit_db):
    """Blocking the witness, or making what it serves unreadable, must not turn
    verify back into a check of our own database alone."""
    with rpc_client() as rpc:
        chain = grow(rpc, producer, audit_db, 5, 5)
        assert faults(rpc, chain) == []
        witnessed_audit.container.stop()
        [fault] = faults(rpc, chain)
    assert fault["kind"] == "unwitnessed" and "0 of the 1 witnesses" in fault["detail"]


def test_a_clients_proofs_rest_on_a_checkpoint_the_witness_cosigned(rpc_client, witnessed_audit, producer,
                                                                    audit_db, caplog):
    """The access report proves each entry against the latest checkpoint a quorum
    of witnesses cosigned -- never a newer one they have not seen -- and a witness
    that cannot be reached is an ALERT, not silence."""
    record, login = random_id("client-record"), random_id("login")
    producer.link(login, record)
    me = {"user_id": login, "role": "client", "sites": [], "purpose": "client_request"}
    with rpc_client() as rpc:
        producer.access(4, sites=(SITE,), client_id=record)
        wait_until(lambda: stored(audit_db) == 4, what="4 entries")
        rpc.audit.checkpoint_now(officer())
        chain = chain_of(audit_db)
        wait_until(lambda: cosigned(rpc, chain, 4), what="the checkpoint of 4 cosigned")
        witnessed_audit.container.stop()  # the witness is gone: what is signed from now on stays unwitnessed
        producer.access(2, sites=(SITE,), client_id=record)
        wait_until(lambda: stored(audit_db) == 6, what="6 entries")
        assert chain in rpc.audit.checkpoint_now(officer())
        report = wait_until(lambda: len((r := rpc.audit.my_access_report(me))["entries"]) == 6 and r,
                            what="the report")
        wait_until(lambda: any("ALERT audit-witness-unreachable" in r.getMessage() for r in caplog.records),
                   what="an alert for the witness that does not answer")
    proofs = [e["proof"] for e in report["entries"]]
    assert sum(p is None for p in proofs) == 2  # the two newest wait for a witnessed checkpoint
    for proof in filter(None, proofs):
        assert proof["tree_size"] == 4 and "\u2014 witness.test/w1 " in proof["checkpoint"]
