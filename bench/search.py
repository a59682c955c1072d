"""Records: finding a client on a network of 500,000 clients.

The search runs as the service runs it -- the query within the caller's sites,
the ``search`` access events for every client returned, one commit -- for a mix
of what a front desk types: a name with a typo, a name being typed (two
letters and a family name), a family name alone, a date of birth with a name, a
phone number's last digits, a record number. Latency per search, p50 and p99;
the baseline is the same searches with PostgreSQL's index scans switched off
(what a sequential scan would cost). ``CONFIDE_BENCH_CLIENTS`` sets the size.
"""

from __future__ import annotations

import itertools
import os
import random
import statistics
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from confide_access import CallerSchema
from confide_contracts.rpc.records import ClientSearchSchema
from confide_events import registry
from confide_messaging import UnitOfWork
from confide_persistence import create_engine, upgrade
from confide_records import search
from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.common import Figures, database, percentile

MIGRATIONS = Path(__file__).parents[1] / "services" / "records" / "src" / "confide_records" / "migrations"
CLIENTS = int(os.environ.get("CONFIDE_BENCH_CLIENTS", "500000"))
SITES = [f"site-{n}" for n in range(20)]
SEARCHES = 400
GIVEN = ("Ana", "Zoë", "José", "Robin", "Nikolai", "Amélie", "Sam", "Jordan", "Fatima", "Björn", "Chloé", "Aiden",
         "Mei", "Olumide", "Priya", "Søren", "Lucía", "Mateo", "Grace", "Hiroshi", "Noor", "Élodie", "Kwame", "Ines")
SYLLABLES = ("ha", "le", "o", "ka", "for", "gar", "cí", "mül", "ler", "ngu", "yen", "öz", "türk", "ko", "wal", "ski",
             "du", "bois", "had", "dad", "sø", "ren", "ros", "si", "ta", "na", "obi", "fer", "nán", "schmi", "kim",
             "sil", "va", "jen", "mo", "reau", "iva", "no", "va", "be", "rg", "ez", "el", "li", "man", "ton")


def names(rng: random.Random, n: int, syllables: int) -> list[str]:
    """``n`` made-up names of a few syllables, accents and all."""
    made = {"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, syllables))).capitalize() for _ in range(n)}
    return sorted(made)


def zipf(rng: random.Random, choices: list[str]):
    """Names as they come: a few common (the commonest ~1 in 200, as Smith in the US), a long tail."""
    cumulative = list(itertools.accumulate(1 / (rank + 1) ** 0.6 for rank in range(len(choices))))
    return lambda: rng.choices(choices, cum_weights=cumulative)[0]


def populate(url: str, n: int) -> None:
    rng = random.Random(7)
    given = zipf(rng, list(GIVEN) + names(rng, 400, 3))
    family = zipf(rng, names(rng, 40_000, 4))
    started = time.perf_counter()
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn, conn.cursor() as cur:
        with cur.copy("COPY clients (id, given_name, family_name, date_of_birth, home_site_id, phone, registered_by)"
                      " FROM STDIN") as copy:
            for i in range(n):
                copy.write_row((uuid.UUID(int=rng.getrandbits(128)), given(), family(),
                                date(1940, 1, 1) + timedelta(days=rng.randrange(30_000)), rng.choice(SITES),
                                f"+1 {rng.randrange(200, 999)} 555 {rng.randrange(10_000):04d}", "bench"))
                if i and i % 100_000 == 0:
                    print(f"  ... {i:,} clients", flush=True)
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # as autovacuum would have by now
    print(f"  {n:,} clients written and indexed in {time.perf_counter() - started:.0f}s", flush=True)


def queries(engine, rng: random.Random) -> list[dict]:
    with engine.connect() as conn:
        sample = conn.execute(text(
            "SELECT given_name, family_name, date_of_birth, phone, record_number FROM clients"
            " TABLESAMPLE SYSTEM (1) WHERE home_site_id = ANY(:sites) LIMIT :n"), {"sites": SITES[:2], "n": SEARCHES}
        ).all()
    typed = []
    for i, c in enumerate(sample):
        kind = i % 6
        surname = c.family_name
        if kind == 0:  # a typo: one letter of the family name replaced
            at = rng.randrange(1, len(surname))
            typed.append({"name": f"{c.given_name} {surname[:at]}x{surname[at + 1:]}"})
        elif kind == 1:
            typed.append({"name": f"{surname} {c.given_name[:2]}"})
        elif kind == 2:
            typed.append({"name": surname})
        elif kind == 3:
            typed.append({"name": surname[:4], "date_of_birth": c.date_of_birth.isoformat()})
        elif kind == 4:
            typed.append({"phone": c.phone[-8:]})
        else:
            typed.append({"record_number": c.record_number})
    return [ClientSearchSchema().load(q) for q in typed]


def timed(engine, who, qs: list[dict], scans_off: bool = False) -> list[float]:
    latencies = []
    for q in qs:
        started = time.perf_counter()
        with Session(engine) as session, session.begin():
            if scans_off:
                session.execute(text("SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off"))
            search.find(UnitOfWork(session, "records", registry), who, q)
        latencies.append((time.perf_counter() - started) * 1000)
    return sorted(latencies)


def run() -> Figures:
    import confide_contracts  # noqa: F401

    figures = Figures("search", f"records, client search over {CLIENTS:,} clients at {len(SITES)} sites")
    with database() as url:
        upgrade(MIGRATIONS, url)
        populate(url, CLIENTS)
        engine = create_engine(url, pool_size=2)
        rng = random.Random(11)
        qs = queries(engine, rng)
        desk = CallerSchema().load({"user_id": "fd-1", "role": "front_desk", "sites": SITES[:2]})
        officer = CallerSchema().load({"user_id": "co-1", "role": "compliance_officer", "sites": []})
        timed(engine, desk, qs[:50])  # warm the cache
        for who, key, label in ((desk, "desk", "front desk, 2 sites"),
                                (officer, "officer", "compliance officer, network-wide")):
            latencies = timed(engine, who, qs)
            figures.add(f"{key}_p50_ms", statistics.median(latencies), "ms", f"search, {label}: p50")
            figures.add(f"{key}_p99_ms", percentile(latencies, 0.99), "ms", f"search, {label}: p99")
        scan = timed(engine, desk, qs[:12], scans_off=True)
        figures.add("scan_p50_ms", statistics.median(scan), "ms",
                    "the same searches as a sequential scan: p50 (baseline)")
        indexed = timed(engine, desk, qs[:12])
        figures.add("indexed_p50_ms", statistics.median(indexed), "ms", "indexed, the same 12 searches: p50",
                    statistics.median(scan), "scan")
        engine.dispose()
    return figures
