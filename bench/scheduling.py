"""Scheduling: booking latency with 50 concurrent clients (and no double booking
when they all want the same slot), against a bare RPC round trip under the same
load; slot search for one week at a site with 50 clinicians and a year of
bookings."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import eventlet
from confide_access.assertions import GATEWAY, CallerSigner, signing
from confide_persistence import create_engine, upgrade
from confide_runtime.heap import freeze_startup_objects
from confide_scheduling.service import SchedulingService
from nameko import config
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ClusterRpcClient
from sqlalchemy import text

from bench.common import Figures, database, percentile, transit_vault, vhost

MIGRATIONS = Path(__file__).parents[1] / "services" / "scheduling" / "src" / "confide_scheduling" / "migrations"
CLIENTS = 50
ROUNDS = 6
CLINICIANS = 50
SITE = "bench-site"
NY = ZoneInfo("America/New_York")
ADMIN = {"user_id": "admin", "role": "admin", "sites": [SITE], "purpose": "operations"}
DESK = {"user_id": "desk", "role": "front_desk", "sites": [SITE], "purpose": "operations"}


def seed(engine, rpc) -> list[str]:
    rpc.scheduling.create_site(ADMIN, {"id": SITE, "name": "Bench", "jurisdiction": "US-NY",
                                       "time_zone": "America/New_York"})
    rooms = [rpc.scheduling.add_room(ADMIN, SITE, {"name": f"R{i}", "capacity": 2})["id"] for i in range(CLINICIANS)]
    with engine.begin() as conn:
        for i in range(CLINICIANS):
            conn.execute(text(
                "INSERT INTO availability (id, clinician_id, site_id, weekday, starts, ends, valid_from) "
                "SELECT gen_random_uuid(), :dr, :site, d, '08:00', '20:00', '2026-01-01' FROM generate_series(0, 6) d"),
                {"dr": f"dr-{i}", "site": SITE})
            conn.execute(text(
                "INSERT INTO licenses VALUES (:id, :dr, 'lcsw', 'US-NY', :id, 'active', '2020-01-01', '2030-01-01', "
                "now())"), {"id": f"lic-{i}", "dr": f"dr-{i}"})
    return rooms


def year_of_bookings(engine, rooms) -> int:
    """Six sessions a weekday for every clinician, from six months back to six ahead."""
    first = date.today() - timedelta(days=182)
    with engine.begin() as conn:
        for i, room in enumerate(rooms):
            conn.execute(text("""
                WITH slots AS (
                    SELECT gen_random_uuid() AS id,
                           ((d + make_interval(hours => h))::timestamp AT TIME ZONE 'America/New_York') AS starts
                    FROM generate_series(CAST(:first AS date), CAST(:first AS date) + 364, interval '1 day') d,
                         generate_series(9, 14) h
                    WHERE extract(isodow FROM d) < 6
                ), appts AS (
                    INSERT INTO appointments (id, site_id, room_id, clinician_id, kind, service_kind, modality,
                        client_jurisdiction, starts_at, ends_at, planned_minutes, status, created_by)
                    SELECT id, :site, CAST(:room AS uuid), :dr, 'individual', 'individual_psychotherapy',
                           'in_person', 'US-NY', starts, starts + interval '50 minutes', 50, 'booked', 'bench'
                    FROM slots RETURNING id, starts_at, ends_at
                )
                INSERT INTO appointment_parties (appointment_id, party_kind, party_id, during)
                SELECT id, kind, party, tstzrange(starts_at, ends_at)
                FROM appts, LATERAL (VALUES ('clinician', CAST(:dr AS text)), ('room', CAST(:room AS text)),
                                            ('client', 'client-' || id::text)) AS p(kind, party)
            """), {"first": first.isoformat(), "site": SITE, "room": room, "dr": f"dr-{i}"})
        return conn.execute(text("SELECT count(*) FROM appointments")).scalar()


def run() -> Figures:
    figures = Figures("scheduling", f"{CLIENTS} concurrent clients (another process), {CLINICIANS} clinicians")
    with transit_vault() as (client, transit), database() as url, vhost() as amqp_uri:
        signer = CallerSigner(transit, GATEWAY)
        upgrade(MIGRATIONS, url)
        engine = create_engine(url)
        with config.patch({"AMQP_URI": amqp_uri, "DATABASE_URL": url, "max_workers": CLIENTS, "VAULT": client,
                           "TRANSIT_MOUNT": "transit"}):
            container = ServiceContainer(SchedulingService)
            container.start()
            freeze_startup_objects()  # as confide-serve does once its service has started
            try:
                with ClusterRpcClient() as rpc:
                    _measure(engine, signing(rpc, signer), amqp_uri, signer, figures)
            finally:
                container.stop()
        engine.dispose()
    return figures


def _measure(engine, rpc, amqp_uri, signer, figures: Figures) -> None:
    rooms = seed(engine, rpc)
    # the load generator presents one assertion the gateway would have made (signing is in `callers`)
    desk = signer.sign(DESK, ["scheduling"])
    command = [sys.executable, "-m", "bench.scheduling_load", amqp_uri, json.dumps(rooms), desk]
    clients = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               cwd=Path(__file__).parents[1])
    while clients.poll() is None:  # the service's green threads run meanwhile
        eventlet.sleep(0.05)
    if clients.returncode != 0:
        raise SystemExit(f"the load generator failed ({clients.returncode})")
    measured = json.loads(clients.stdout.read().decode().strip().splitlines()[-1])
    baseline, booked = measured["baseline"], measured["booked"]
    figures.add("bare_p50_ms", statistics.median(baseline), "ms", "RPC round trip under the same load, p50 (baseline)")
    figures.add("bare_p99_ms", percentile(baseline, 0.99), "ms", "RPC round trip under the same load, p99")
    figures.add("book_p50_ms", statistics.median(booked), "ms", f"book, {CLIENTS} at once, p50",
                statistics.median(baseline), "bare RPC p50")
    figures.add("book_p99_ms", percentile(booked, 0.99), "ms", f"book, {CLIENTS} at once, p99",
                percentile(baseline, 0.99), "bare RPC p99", goal=100.0)
    figures.figures["book_p99_vs_bare_p99"] = round(percentile(booked, 0.99) / percentile(baseline, 0.99), 2)
    wins, refusals = measured["wins"], measured["refusals"]
    print(f"  {CLIENTS} concurrent bookings of one slot: {wins} booked, {CLIENTS - wins} refused "
          f"({', '.join(f'{n} {kind}' for kind, n in refusals.items())}; double bookings: {max(0, wins - 1)})")
    figures.figures["same_slot_refusals"] = refusals
    figures.add("same_slot_p50_ms", statistics.median(measured["contest"]), "ms",
                f"book, {CLIENTS} at once for one slot, p50", statistics.median(baseline), "bare RPC p50")
    figures.add("same_slot_max_ms", max(measured["contest"]), "ms",
                f"book, {CLIENTS} at once for one slot, the last answered", percentile(baseline, 0.99), "bare RPC p99")

    # one client at a time: what the booking itself costs over a bare round trip
    day = date.today() + timedelta(days=260)
    single, bare = [], []
    for n in range(CLINICIANS):
        at = datetime(day.year, day.month, day.day, 9, 0, tzinfo=NY) + timedelta(days=n % 7, hours=n // 7)
        started = time.perf_counter()
        rpc.scheduling.book(DESK, {"site_id": SITE, "room_id": rooms[n], "clinician_id": f"dr-{n}",
                                   "client_ids": [f"s-{n}"], "kind": "individual",
                                   "service_kind": "individual_psychotherapy", "modality": "in_person",
                                   "starts_at": at.astimezone(UTC).isoformat(), "planned_minutes": 50})
        single.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        rpc.scheduling.health()
        bare.append((time.perf_counter() - started) * 1000)
    figures.add("book_single_p50_ms", statistics.median(single), "ms", "book, one client at a time, p50",
                statistics.median(bare), "bare RPC")
    figures.add("book_single_p99_ms", percentile(single, 0.99), "ms", "book, one client at a time, p99",
                percentile(bare, 0.99), "bare RPC")

    started = time.perf_counter()
    total = year_of_bookings(engine, rooms)
    print(f"  (a year of bookings: {total:,} appointments written in {time.perf_counter() - started:.1f}s)")
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    week = date.today() + timedelta(days=14)
    query = {"clinician_id": "dr-7", "site_id": SITE, "service_kind": "individual_psychotherapy", "minutes": 50,
             "step": 15, "from_date": week.isoformat(), "to_date": (week + timedelta(days=6)).isoformat()}
    rpc.scheduling.find_slots(DESK, query)
    times, health, found = [], [], []
    for _ in range(30):
        started = time.perf_counter()
        found = rpc.scheduling.find_slots(DESK, query)
        times.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        rpc.scheduling.health()
        health.append((time.perf_counter() - started) * 1000)
    figures.add("slots_p50_ms", statistics.median(times), "ms",
                f"slot search, one week, one clinician ({len(found)} slots), p50", statistics.median(health),
                "bare RPC")
    figures.add("slots_p99_ms", percentile(times, 0.99), "ms", "slot search, p99", goal=100.0)

    # the front desk's day sheet of the whole site: 50 clinicians x 6 sessions, each client's access recorded
    day = next(d for d in (week + timedelta(days=n) for n in range(7)) if d.isoweekday() < 6)
    sheet = {"site_id": SITE, "date": day.isoformat()}
    sessions = len(rpc.scheduling.day_sheet(DESK, sheet)["appointments"])
    times = []
    for _ in range(15):
        started = time.perf_counter()
        rpc.scheduling.day_sheet(DESK, sheet)
        times.append((time.perf_counter() - started) * 1000)
    figures.add("day_sheet_p50_ms", statistics.median(times), "ms",
                f"the site's day sheet, {sessions} sessions, an access event per client, p50",
                statistics.median(health), "bare RPC")
    figures.add("day_sheet_p99_ms", percentile(times, 0.99), "ms", "the site's day sheet, p99")
