"""Records: what "audit first" costs on the read path.

A signed note is read the way the service reads it (facts, policy, note and
sections, decrypt through Vault transit, hash check) with and without the
access event written to the outbox in the same transaction; then through the
running service over RPC, as a client of it sees it (p50 and p99).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import eventlet
from confide_access import Caller, CallerSchema, record_access
from confide_access.assertions import GATEWAY, CallerSigner, signing
from confide_events import registry
from confide_messaging import UnitOfWork
from confide_persistence import create_engine, upgrade
from confide_records import store
from confide_records.domain import policy
from confide_records.sealing import sealers_from_config
from confide_records.service import RecordsService
from confide_runtime.heap import freeze_startup_objects
from nameko import config
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ClusterRpcClient
from sqlalchemy.orm import Session

from bench.common import Figures, database, percentile, transit_vault, vhost

MIGRATIONS = Path(__file__).parents[1] / "services" / "records" / "src" / "confide_records" / "migrations"
N = 300
READERS = 20
ROUNDS = 5
SITE = "site-1"


def read_note(engine, sealers, who: Caller, header, participants, cid, record: bool) -> str:
    with Session(engine) as session, session.begin():
        uow = UnitOfWork(session, "records", registry)
        conn = session.connection()
        relation = store.relation(conn, who, cid)
        assert policy.may_read(who, policy.Kind.NOTES, relation).allowed
        sections = store.visible_sections(conn, header.id, cid)
        texts = sealers.notes.open_many([s.body_ciphertext for s in sections])
        if record:
            record_access(uow, who, action="read", resource_type="Note", resource_id=str(header.id),
                          client_id=str(cid), site_id=relation.home_site)
    return texts[0]


def run() -> Figures:
    import confide_contracts  # noqa: F401

    figures = Figures("records", f"reads of one signed note (Vault transit decrypt on every read), {N} a round, "
                                 f"the median of {ROUNDS} rounds")
    with transit_vault("record-notes", "psychotherapy-notes") as (client, transit), database() as url, \
            vhost() as amqp_uri:
        upgrade(MIGRATIONS, url)
        engine = create_engine(url, pool_size=READERS)
        settings = {"AMQP_URI": amqp_uri, "DATABASE_URL": url, "VAULT": client, "TRANSIT_MOUNT": "transit"}
        with config.patch(settings):
            container = ServiceContainer(RecordsService)
            container.start()
            freeze_startup_objects()  # as confide-serve does once its service has started
            try:
                _measure(engine, container, settings, CallerSigner(transit, GATEWAY), figures)
            finally:
                container.stop()
        engine.dispose()
    return figures


def _measure(engine, container, settings, signer, figures: Figures) -> None:
    front = {"user_id": "fd-1", "role": "front_desk", "sites": [SITE]}
    me = {"user_id": "dr-1", "role": "clinician", "sites": [SITE]}
    with ClusterRpcClient() as client:
        rpc = signing(client, signer)
        cid = rpc.records.register_client(front, {"given_name": "A", "family_name": "B", "date_of_birth": "1990-01-01",
                                                  "home_site_id": SITE})["id"]
        rpc.records.assign_care_team(front, cid, {"clinician_id": "dr-1", "role": "primary"})
        note = rpc.records.create_note(me, {"kind": "progress", "session_kind": "individual", "appointment_id": "a-1",
                                            "service_date": "2026-11-20", "site_id": SITE, "client_ids": [cid],
                                            "sections": [{"body": "x" * 2000}]})["id"]
        rpc.records.sign_note(me, note)
        with config.patch(settings):
            sealers = sealers_from_config(settings["VAULT"])
        who = CallerSchema().load(me)
        with engine.connect() as conn:
            header, participants = store.note_header(conn, note)
        read = lambda record: read_note(engine, sealers, who, header, participants, cid, record)  # noqa: E731
        rounds: dict[tuple[bool, int], list[float]] = {}
        pool = eventlet.GreenPool(READERS)
        for record in (False, True) * (ROUNDS + 1):  # interleaved; the first pair warms up
            started = time.perf_counter()
            for _ in range(N):
                read(record)
            rounds.setdefault((record, 1), []).append(N / (time.perf_counter() - started))
            started = time.perf_counter()
            for _ in pool.imap(lambda _, r=record: read(r), range(N * 2)):
                pass
            rounds.setdefault((record, READERS), []).append(N * 2 / (time.perf_counter() - started))
        # the median of the rounds: one round of a few hundred reads varies by 15% on 2 shared cores
        timings = {record: statistics.median(rounds[record, 1][1:]) for record in (False, True)}
        together = {record: statistics.median(rounds[record, READERS][1:]) for record in (False, True)}
        figures.add("read_plain_per_s", timings[False], "reads/s", "one reader: read without recording (baseline)")
        figures.add("read_recorded_per_s", timings[True], "reads/s", "one reader: read with its access event",
                    timings[False], "baseline")
        figures.add(f"read_plain_{READERS}_per_s", together[False], "reads/s",
                    f"{READERS} readers: read without recording (baseline)")
        figures.add(f"read_recorded_{READERS}_per_s", together[True], "reads/s",
                    f"{READERS} readers: read with its access event")
        figures.ratio("audit_first_ratio", together[True], together[False],
                      f"{READERS} readers: with the access event against without", goal=0.8)

        latencies = []
        for _ in range(N):
            started = time.perf_counter()
            rpc.records.get_note(me, note, cid)
            latencies.append((time.perf_counter() - started) * 1000)
        figures.add("get_note_p50_ms", statistics.median(latencies), "ms", "get_note over RPC, signed caller, p50")
        figures.add("get_note_p99_ms", percentile(latencies, 0.99), "ms", "get_note over RPC, signed caller, p99")
