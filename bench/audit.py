"""Audit trail: append rate against a plain batched write of the same rows,
end-to-end ingest through outboxes and RabbitMQ, verify rate, and one client's
history query latency over a large trail.

BENCH_AUDIT_ENTRIES sets the size of the trail for the query figure (default
1,000,000; the goal is stated for 10,000,000).
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from confide_audit import store
from confide_audit.domain.chain import Appending, ChainHead, append
from confide_audit.domain.entry import AccessFacts
from confide_audit.domain.verify import verify_chain
from confide_persistence import create_engine, upgrade
from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.common import Figures, database, percentile, vhost

MIGRATIONS = Path(__file__).parents[1] / "services" / "audit" / "src" / "confide_audit" / "migrations"
APPEND_N = 100_000
BATCH = 1000
QUERY_N = int(os.environ.get("BENCH_AUDIT_ENTRIES", "1000000"))
START = datetime(2026, 1, 1, tzinfo=UTC)
ZERO = b"\x00" * 32


def synthetic(n: int, offset: int = 0, clients: int = 20_000) -> list[AccessFacts]:
    rng = random.Random(offset)
    return [
        AccessFacts(
            event_id=f"ev-{offset + i}", event_type="records.access.recorded", producer="records",
            occurred_at=START + timedelta(seconds=(offset + i) * 0.5), actor_id=f"dr-{rng.randrange(500)}",
            actor_role="clinician", on_behalf_of=None, site_id=f"site-{rng.randrange(3)}", action="read",
            outcome="allowed", resource_type="Note", resource_id=f"note-{offset + i}",
            client_id=f"client-{rng.randrange(clients)}", purpose="treatment", reason=None, break_glass=False,
            break_glass_reason=None, source_address="10.0.0.1", user_agent="bench", recipient=None,
            trace_id=None,
        )
        for i in range(n)
    ]


def plain_copy(conn, facts: list[AccessFacts], chain: int, first_seq: int) -> None:
    """The baseline: the same rows, written the same way, with no hashing at all."""
    now = datetime.now(UTC)
    store.ensure_partitions(conn, [f.occurred_at for f in facts])
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY audit_entries ({', '.join(store.ENTRY_COLUMNS)}) FROM STDIN") as copy:
        for i, f in enumerate(facts):  # (as the audit service writes its rows: Entry.row)
            copy.write_row((chain, first_seq + i, now, *f.__dict__.values(), ZERO, ZERO))


def run_append(url: str, figures: Figures) -> None:
    engine = create_engine(url)
    facts = synthetic(APPEND_N)
    started = time.perf_counter()
    for i in range(0, APPEND_N, BATCH):
        with engine.begin() as conn:
            plain_copy(conn, facts[i : i + BATCH], 9, i)
    baseline = APPEND_N / (time.perf_counter() - started)
    figures.add("plain_write_per_s", baseline, "rows/s", "plain batched write of the same rows (baseline)")

    head = ChainHead(0)
    started = time.perf_counter()
    for i in range(0, APPEND_N, BATCH):
        with engine.begin() as conn:
            appended = Appending(head, facts[i : i + BATCH], datetime.now(UTC))  # (as the service does)
            store.write_batch(conn, appended)
            head = appended.head
    rate = APPEND_N / (time.perf_counter() - started)
    figures.add("append_per_s", rate, "entries/s", "append: canonical form, chain, Merkle tree, insert", baseline,
                "baseline")
    figures.ratio("append_vs_plain", rate, baseline, "append against the plain write", goal=0.7)

    started = time.perf_counter()
    hashed = head = ChainHead(0)
    for i in range(0, APPEND_N, BATCH):
        hashed = append(hashed, facts[i : i + BATCH], datetime.now(UTC)).head
    only_hashing = APPEND_N / (time.perf_counter() - started)
    figures.add("hashing_per_s", only_hashing, "entries/s", "  of which canonical form + hashing alone")

    with engine.connect() as conn:
        started = time.perf_counter()
        result = verify_chain(0, store.stream_entries(conn, 0), [], "k", [], "o")
        rate = result.entries / (time.perf_counter() - started)
    assert result.ok
    figures.add("verify_per_s", rate, "entries/s", "verify: re-read, recompute leaves, links and tree", goal=100_000)
    engine.dispose()


INGEST_N = 30_000


def run_ingest(url: str, amqp_uri: str, figures: Figures) -> None:
    """Outbox -> relay -> RabbitMQ -> audit chains: the 4 chains in one audit
    process, then shared by two (``AUDIT_CONSUME_CHAINS``), each round on
    ``INGEST_N`` events of its own waiting in the queues."""
    import confide_access  # noqa: F401
    from confide_access import Action, CallerSchema, record_access
    from confide_audit.ingest import declare_topology
    from confide_events import registry
    from confide_messaging import OutboxRelay, UnitOfWork, add_messaging_tables, broker
    from confide_persistence import make_metadata
    from confide_testing.databases import DatabaseFactory
    from confide_testing.vault import DevVault
    from confide_vault import Transit, VaultClient

    from bench.audit_ingest import PARTITIONS
    from bench.relay import ACTOR

    vault = DevVault().start()
    factory = DatabaseFactory("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        client = VaultClient(vault.addr, token=vault.token, ca_cert=vault.ca)
        client.hvac.sys.enable_secrets_engine("transit", path="transit")
        Transit(client, "transit").create_key("audit-checkpoints", key_type="ed25519")
        producer = create_engine(factory.create("bench_producer"))
        metadata = make_metadata()
        add_messaging_tables(metadata)
        metadata.create_all(producer)
        who = CallerSchema().load({"user_id": ACTOR.id, "role": "clinician", "sites": ["site-1"]})
        with broker.connection(amqp_uri) as connection:
            declare_topology(connection, PARTITIONS)  # (the queues, before anything is published to them)
        relay = OutboxRelay(producer, amqp_uri, batch_size=1000)
        engine = create_engine(url)
        env = {**os.environ, "VAULT_ADDR": vault.addr, "VAULT_TOKEN": vault.token, "VAULT_CACERT": str(vault.ca)}
        rates, relay_rates = {}, []
        for processes, splits in ((1, ["all"]), (2, ["0,1", "2,3"])):
            with Session(producer) as session, session.begin():
                uow = UnitOfWork(session, "records", registry)
                for i in range(INGEST_N):
                    record_access(uow, who, action=Action.READ, resource_type="Note", resource_id=f"n{i}",
                                  client_id=f"c{i % 100}", site_id=f"site-{i % 8}")
            started = time.perf_counter()
            relay.drain()
            relay_rates.append(INGEST_N / (time.perf_counter() - started))
            rates[processes] = _ingest([[sys.executable, "-m", "bench.audit_ingest", amqp_uri, url, chains]
                                        for chains in splits], env, engine, INGEST_N * processes)
        relay.publisher.close()
        engine.dispose()
        relay_rate = statistics.median(relay_rates)
        figures.add("relay_per_s", relay_rate, "events/s", "outbox relay of one service into RabbitMQ")
        figures.add("ingest_per_s", rates[1], "entries/s", "ingest: 4 chains from their queues, one process")
        figures.add("ingest_2_processes_per_s", rates[2], "entries/s",
                    "ingest: the 4 chains shared by two processes (AUDIT_CONSUME_CHAINS)", rates[1], "one process")
        figures.add("end_to_end_per_s", min(relay_rate, max(rates.values())), "entries/s",
                    "end to end, the slower of relay and ingest", goal=10_000)
        producer.dispose()
    finally:
        factory.drop_all()
        vault.stop()


def _ingest(commands: list[list[str]], env: dict, engine, total: int) -> float:
    """Start the audit processes, let them go at once, and time them from their
    first commit until the trail holds ``total`` entries."""
    processes = [subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                                  cwd=Path(__file__).parents[1]) for command in commands]
    try:
        for process in processes:
            assert process.stdout.readline().strip() == "ready"
        with engine.connect() as conn:
            before = conn.execute(text("SELECT count(*) FROM audit_ingested")).scalar_one()
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        first = None
        while True:
            with engine.connect() as conn:
                done = conn.execute(text("SELECT count(*) FROM audit_ingested")).scalar_one()
            now = time.perf_counter()
            if first is None and done > before:
                first, before = now, done
            if done >= total:
                return (done - before) / (now - first)
            time.sleep(0.01)
    finally:
        for process in processes:
            process.stdin.close()
        for process in processes:
            process.wait(timeout=60)


def run_query(url: str, figures: Figures) -> None:
    engine = create_engine(url)
    print(f"  building a trail of {QUERY_N:,} entries for the query figure ...", flush=True)
    started = time.perf_counter()
    step = 50_000
    for i in range(0, QUERY_N, step):
        with engine.begin() as conn:
            plain_copy(conn, synthetic(min(step, QUERY_N - i), offset=i), 1, i)
        if (i // step) % 20 == 19:
            print(f"    {i + step:,} entries ({time.perf_counter() - started:.0f}s)", flush=True)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE audit_entries"))
    from confide_audit.queries import run_query as query

    rng = random.Random(7)
    timings = []
    with engine.connect() as conn:
        for _ in range(300):
            client = f"client-{rng.randrange(20_000)}"
            t = time.perf_counter()
            page = query(conn, {"client_id": client, "order": "desc", "limit": 100})
            timings.append((time.perf_counter() - t) * 1000)
            assert page["entries"]
    label = f"one client's history (100 newest) over {QUERY_N:,} entries"
    figures.add("history_p50_ms", statistics.median(timings), "ms", f"{label}, p50")
    figures.add("history_p99_ms", percentile(timings, 0.99), "ms", f"{label}, p99 (the goal is over 10,000,000)",
                goal=10.0)
    figures.figures["history_entries"] = QUERY_N
    engine.dispose()


def run() -> Figures:
    figures = Figures("audit", f"the trail ({APPEND_N:,} entries appended in batches of {BATCH})")
    with database() as url:
        upgrade(MIGRATIONS, url)
        run_append(url, figures)
    with database() as url, vhost() as amqp_uri:
        upgrade(MIGRATIONS, url)
        run_ingest(url, amqp_uri, figures)
    with database() as url:
        upgrade(MIGRATIONS, url)
        run_query(url, figures)
    return figures
