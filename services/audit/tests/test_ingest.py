"""From services' outboxes through RabbitMQ into the chains, and back out as
queries, checkpoints, proofs and verification -- on the real stack."""

import base64
import json

import pytest
from audit_support import officer
from confide_audit.domain.checkpoint import verify_note
from confide_audit.models import checkpoints, entries
from confide_messaging.publisher import ConfirmingPublisher, OutgoingMessage
from confide_testing import random_id, wait_until
from confide_tlog.merkle import leaf_hash, verify_consistency, verify_inclusion
from nameko.exceptions import RemoteError
from rfc6962 import independent_root_from_path
from sqlalchemy import func, select


def stored(engine) -> int:
    """Entries from the producer (the audit service's own access events aside)."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(entries).where(entries.c.producer == "records")
        ).scalar_one()


@pytest.fixture
def rpc(rpc_client, audit):
    with rpc_client() as client:
        yield client


def test_every_access_event_lands_once_in_order_and_verifies(rpc, audit, producer, audit_db):
    events = producer.access(120)
    wait_until(lambda: stored(audit_db) == 120, what="120 entries")
    with audit_db.connect() as conn:
        rows = conn.execute(select(entries.c.chain, entries.c.seq, entries.c.site_id, entries.c.event_id)).all()
    # a site's events stay in one chain; each chain is numbered 0..n-1 without gaps
    chains_of_site = {}
    for row in rows:
        chains_of_site.setdefault(row.site_id, set()).add(row.chain)
    assert all(len(c) == 1 for c in chains_of_site.values())
    for chain in {r.chain for r in rows}:
        assert sorted(r.seq for r in rows if r.chain == chain) == list(range(sum(r.chain == chain for r in rows)))
    assert {r.event_id for r in rows} == {str(e.id) for e in events}
    rpc.audit.checkpoint_now(officer())
    report = rpc.audit.verify(officer())
    assert report["ok"], report
    assert sum(c["entries"] for c in report["chains"]) == 120


def test_redelivered_event_is_stored_once(rpc, audit, producer, audit_db, audit_config):
    [event] = producer.access(1)
    wait_until(lambda: stored(audit_db) == 1)
    publisher = ConfirmingPublisher(audit_config["AMQP_URI"])
    message = OutgoingMessage.for_event(event.to_message(), headers={"site_id": event.site_id})
    publisher.publish([message, message])
    publisher.close()
    producer.access(1)  # something after the duplicates, to know they were processed
    wait_until(lambda: stored(audit_db) == 2)
    assert stored(audit_db) == 2


def test_invalid_event_is_parked_in_dead_letters(rpc, audit, producer, audit_db, audit_config):
    from confide_messaging.dlq import list_dead_letters

    publisher = ConfirmingPublisher(audit_config["AMQP_URI"])
    bad = {"type": "records.access.recorded", "id": "nope", "payload": {}}
    publisher.publish([
        OutgoingMessage(routing_key="records.access.recorded", body=json.dumps(bad).encode(),
                        headers={"site_id": "site-a"}),
        OutgoingMessage(routing_key="records.access.recorded", body=b"\x00 not json",
                        headers={"site_id": "site-a"}),
    ])
    publisher.close()
    producer.access(3)
    wait_until(lambda: stored(audit_db) == 3)

    def parked():
        return [letter for i in range(2)
                for letter in list_dead_letters(audit_config["AMQP_URI"], f"audit.ingest.{i}.dead")]
    letters = wait_until(lambda: len(parked()) == 2 and parked(), what="dead letters")
    assert sorted(letter.error.split(":")[0] for letter in letters) == ["InvalidEvent", "UndecodableBody"]


def test_an_event_the_database_refuses_is_parked_and_the_chain_moves_on(rpc, audit, producer, audit_db,
                                                                        audit_config):
    """An event valid by its schema that PostgreSQL will not keep (a NUL in its
    text) once failed its whole batch, which came back forever: every later access
    on that chain was served and never reached the trail."""
    from confide_access import ACCESS_EVENT_TYPE  # noqa: F401 - registers the access event
    from confide_events import Actor, registry
    from confide_messaging.dlq import list_dead_letters

    site = random_id("site")
    bad = registry.build("records.access.recorded", {
        "action": "read", "outcome": "allowed", "resource_type": "Note", "resource_id": "n-1",
        "client_id": "client-1", "purpose": "treatment", "reason": "care team\x00 (a NUL PostgreSQL refuses)",
    }, producer="records", actor=Actor(id="dr-1", role="clinician"), site_id=site)
    before = producer.access(5, sites=(site,), flush=False)
    publisher = ConfirmingPublisher(audit_config["AMQP_URI"])
    producer.relay.drain()
    publisher.publish([OutgoingMessage(routing_key="records.access.recorded",
                                       body=json.dumps(bad.to_message()).encode(), headers={"site_id": site})])
    publisher.close()
    after = producer.access(5, sites=(site,))
    wait_until(lambda: stored(audit_db) == 10, what="every good access in the trail")
    with audit_db.connect() as conn:
        ids = set(conn.execute(select(entries.c.event_id)).scalars())
    assert {str(e.id) for e in before + after} <= ids and str(bad.id) not in ids
    letters = wait_until(lambda: [letter for i in range(2) for letter in
                                  list_dead_letters(audit_config["AMQP_URI"], f"audit.ingest.{i}.dead")],
                         what="the refused event parked")
    # named with its SQLSTATE, never quoted (PostgreSQL's text quotes the row it refused)
    assert [letter.error.split()[0] for letter in letters] == ["DataError"], [x.error for x in letters]
    assert all(letter.error.endswith("(text withheld)") for letter in letters)
    assert rpc.audit.verify(officer())["ok"]


def grow_in_two_steps(rpc, producer, audit_db, site):
    """60 entries, a checkpoint, 70 more, a checkpoint: sizes 60 and 130."""
    producer.access(60, sites=(site,))
    wait_until(lambda: stored(audit_db) == 60)
    rpc.audit.checkpoint_now(officer())
    producer.access(70, sites=(site,))
    wait_until(lambda: stored(audit_db) == 130)
    rpc.audit.checkpoint_now(officer())


def test_checkpoints_are_signed_notes_a_third_party_can_check(rpc, audit, producer, audit_db, transit):
    grow_in_two_steps(rpc, producer, audit_db, "site-a")
    published = rpc.audit.checkpoints(officer())
    keys = [base64.b64decode(k) for k in published["public_keys"]]
    [latest] = published["checkpoints"]
    assert latest["size"] == 130
    checkpoint = verify_note(latest["note"], published["key_name"], keys[0])
    assert checkpoint.size == 130
    assert checkpoint.origin == f"confide.test/audit/chain/{latest['chain']}"
    with audit_db.connect() as conn:
        sizes = sorted(conn.execute(select(checkpoints.c.size)).scalars())
    # (the 70 may arrive in more than one batch on a busy machine, and AUDIT_CHECKPOINT_EVERY=50 then
    # signs one between them)
    assert sizes[0] == 60 and sizes[-1] == 130, sizes


def test_inclusion_and_consistency_proofs_check_out_independently(rpc, audit, producer, audit_db):
    grow_in_two_steps(rpc, producer, audit_db, "site-b")
    chain = rpc.audit.checkpoints(officer())["checkpoints"][0]["chain"]
    keys = [base64.b64decode(k) for k in rpc.audit.checkpoints(officer())["public_keys"]]
    for seq in (0, 59, 77, 129):
        answer = rpc.audit.prove_inclusion(officer(), chain, seq)
        cp = verify_note(answer["checkpoint"], "confide.test/audit", keys[0])
        canonical = base64.b64decode(answer["canonical"])
        proof = [base64.b64decode(p) for p in answer["proof"]]
        assert json.loads(canonical)["seq"] == seq
        assert independent_root_from_path(canonical, seq, cp.size, proof) == cp.root_hash
        assert verify_inclusion(leaf_hash(canonical), seq, cp.size, proof, cp.root_hash)
        # and not for another entry's bytes
        assert independent_root_from_path(canonical + b" ", seq, cp.size, proof) != cp.root_hash
    answer = rpc.audit.prove_consistency(officer(), chain, 60, 130)
    old = verify_note(answer["old"], "confide.test/audit", keys[0])
    new = verify_note(answer["new"], "confide.test/audit", keys[0])
    proof = [base64.b64decode(p) for p in answer["proof"]]
    assert verify_consistency(60, 130, old.root_hash, new.root_hash, proof)
    assert not verify_consistency(60, 130, new.root_hash, new.root_hash, proof)


def test_queries_filter_sort_and_page(rpc, audit, producer, audit_db):
    client = random_id("client")
    producer.access(7, client_id=client, actor_id="dr-who")
    producer.access(3, client_id=client, action="disclose", purpose="disclosure", recipient="Dr Smith, County Hospital")
    producer.access(2, client_id=client, outcome="denied", reason="not on care team", actor_id="dr-nosy")
    producer.access(5)
    wait_until(lambda: stored(audit_db) == 17)
    pages, cursor = [], None
    while True:
        # producer "records": the officer's own lookups of this client are in the trail too
        page = rpc.audit.query(officer(), {"client_id": client, "producer": "records", "limit": 5, "cursor": cursor})
        pages.append(page["entries"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    seen = [e for p in pages for e in p]
    assert len(seen) == 12 and [len(p) for p in pages] == [5, 5, 2]
    assert [e["occurred_at"] for e in seen] == sorted(e["occurred_at"] for e in seen)
    denied = rpc.audit.query(officer(), {"client_id": client, "producer": "records", "outcome": "denied"})["entries"]
    assert {e["actor_id"] for e in denied} == {"dr-nosy"}
    assert all(e["reason"] == "not on care team" for e in denied)
    disclosures = rpc.audit.disclosures(officer(), client)
    assert len(disclosures) == 3
    assert disclosures[0]["recipient"] == "Dr Smith, County Hospital"


def test_bad_filters_are_refused_by_name(rpc, audit):
    with pytest.raises(RemoteError) as caught:
        rpc.audit.query(officer(), {"outcome": "maybe", "limit": 0})
    assert caught.value.exc_type == "InvalidRequest"
    assert "outcome" in str(caught.value) and "limit" in str(caught.value)
    with pytest.raises(RemoteError, match="cursor"):
        rpc.audit.query(officer(), {"cursor": "garbage!"})


def test_only_officers_query_and_the_denial_is_itself_audited(rpc, audit, producer, audit_db):
    clinician = {"user_id": "dr-curious", "role": "clinician", "sites": ["site-a"]}
    with pytest.raises(RemoteError) as caught:
        rpc.audit.query(clinician, {})
    assert caught.value.exc_type == "AccessDenied"
    # the audit service's own access events go through its outbox into its own trail
    wait_until(lambda: rpc.audit.query(officer(), {"actor_id": "dr-curious"})["entries"], what="denial entry")
    [entry] = rpc.audit.query(officer(), {"actor_id": "dr-curious"})["entries"]
    assert entry["outcome"] == "denied" and entry["producer"] == "audit"


def test_a_client_sees_who_accessed_their_record_and_nothing_else(rpc, audit, producer, audit_db):
    """Entries are filed under the client's record id; a client signs in with a
    login of their own, linked to the record by invitation (records announces
    it). The report once looked entries up by the login and found nothing."""
    robin, jordan = random_id("client-record"), random_id("client-record")
    robin_login, jordan_login = random_id("robin"), random_id("jordan")
    producer.link(robin_login, robin)
    producer.link(jordan_login, jordan)
    producer.access(3, client_id=robin, actor_id="dr-lee")
    producer.access(2, client_id=jordan, actor_id="dr-ruiz")
    wait_until(lambda: stored(audit_db) == 5)
    rpc.audit.checkpoint_now(officer())

    def report(login):
        return rpc.audit.my_access_report({"user_id": login, "role": "client", "sites": [],
                                           "purpose": "client_request"})

    mine = wait_until(lambda: (r := report(robin_login))["entries"] and r, what="robin's report")
    assert mine["client_id"] == robin and len(mine["entries"]) == 3
    assert {e["actor_id"] for e in mine["entries"]} == {"dr-lee"} and "source_address" not in mine["entries"][0]
    theirs = report(jordan_login)
    assert {e["actor_id"] for e in theirs["entries"]} == {"dr-ruiz"} and len(theirs["entries"]) == 2
    # each entry is provably in the tree the log signed (the checkpoint travels with the proof)
    pubkey = base64.b64decode(mine["public_keys"][-1])  # (the keys come with the report: a client may not list them)
    assert mine["public_keys"] == rpc.audit.checkpoints(officer())["public_keys"]
    for entry in mine["entries"]:
        proof = entry["proof"]
        checkpoint = verify_note(proof["checkpoint"], "confide.test/audit", pubkey)
        assert verify_inclusion(base64.b64decode(proof["leaf_hash"]), proof["seq"], proof["tree_size"],
                                [base64.b64decode(h) for h in proof["hashes"]], checkpoint.root_hash)
    assert report(random_id("nobody"))["entries"] == []  # a login linked to no record sees nothing
    with pytest.raises(RemoteError, match="AccessDenied"):
        rpc.audit.my_access_report({"user_id": "dr-lee", "role": "clinician", "sites": []})


def test_processes_can_share_the_chains(audit_config, container_factory, producer, audit_db):
    """Two replicas, each consuming its own chains, build one trail between them."""
    from confide_audit.service import AuditService
    from nameko import config

    replicas = []
    for chains in ("0", "1"):
        with config.patch({"AUDIT_CONSUME_CHAINS": chains}):
            replica = container_factory(AuditService)
            replica.start()
            replicas.append(replica)
    producer.access(60)
    wait_until(lambda: stored(audit_db) == 60)
    with audit_db.connect() as conn:
        chains = set(conn.execute(select(entries.c.chain).distinct()).scalars())
    assert chains == {0, 1}
    ingested = [sum(c.ingested for c in dep.consumers) for r in replicas for dep in r.extensions
                if hasattr(dep, "consumers")]
    assert all(n > 0 for n in ingested) and sum(ingested) == 60


def test_a_bad_chain_setting_stops_start_up_with_its_name(audit_config, container_factory):
    from confide_audit.service import AuditService
    from confide_persistence.provider import ConfigurationError
    from nameko import config

    with config.patch({"AUDIT_CONSUME_CHAINS": "0,7"}):
        replica = container_factory(AuditService)
        with pytest.raises(ConfigurationError, match="AUDIT_CONSUME_CHAINS"):
            replica.start()


def test_a_standby_replica_takes_over_when_the_active_one_dies(rpc_client, audit_config, container_factory, producer,
                                                              audit_db):
    """Both replicas consume every chain; RabbitMQ lets one be active per queue.
    When it dies, the standby continues the same chains with no gap."""
    from confide_audit.service import AuditService

    active = container_factory(AuditService)
    active.start()
    standby = container_factory(AuditService)
    standby.start()

    def ingested(container):
        return sum(c.ingested for dep in container.extensions if hasattr(dep, "consumers") for c in dep.consumers)

    producer.access(30)
    wait_until(lambda: stored(audit_db) == 30)
    assert ingested(active) == 30 and ingested(standby) == 0
    active.kill()
    producer.access(30)
    wait_until(lambda: stored(audit_db) == 60, timeout=30, what="the standby to take over")
    assert ingested(standby) == 30
    with rpc_client() as rpc:
        rpc.audit.checkpoint_now(officer())
        assert rpc.audit.verify(officer())["ok"]


def test_checkpoints_come_on_time_under_steady_traffic(audit_config, container_factory, producer, audit_db):
    """Traffic that never lets the queue go idle still gets a checkpoint every
    AUDIT_CHECKPOINT_SECONDS, long before AUDIT_CHECKPOINT_EVERY entries."""
    import time

    from confide_audit.service import AuditService
    from nameko import config

    with config.patch({"AUDIT_CHECKPOINT_SECONDS": 1, "AUDIT_CHECKPOINT_EVERY": 1_000_000}):
        container_factory(AuditService).start()
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            producer.access(2, sites=("site-steady",))
            time.sleep(0.02)
    with audit_db.connect() as conn:
        made = conn.execute(select(func.count()).select_from(checkpoints)).scalar_one()
    assert made >= 2


def test_bad_proof_requests_are_refused_by_name(rpc, audit):
    with pytest.raises(RemoteError) as caught:
        rpc.audit.prove_inclusion(officer(), "zero", -1)
    assert caught.value.exc_type == "InvalidRequest"
    assert "chain" in str(caught.value) and "seq" in str(caught.value)
    with pytest.raises(RemoteError, match="new_size"):
        rpc.audit.prove_consistency(officer(), 0, 5, 0)
    with pytest.raises(RemoteError, match="tree_size"):
        rpc.audit.prove_inclusion(officer(), 0, 0, 99)  # no such checkpoint
