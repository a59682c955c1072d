"""The load generator of ``bench/scheduling.py``: 50 callers in a process of
their own, booking at once through one service's RPC client (as the gateway's
workers share one); prints its figures as one JSON line."""

from confide_persistence.green import patch

patch()  # before kombu opens sockets

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import eventlet  # noqa: E402
from confide_messaging.rpc import ClusterRpc  # noqa: E402
from confide_runtime.heap import freeze_startup_objects  # noqa: E402
from nameko import config  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from nameko.exceptions import RemoteError  # noqa: E402

from bench.rpc import caller, client_of  # noqa: E402

CLIENTS = 50
ROUNDS = 6
SITE = "bench-site"
NY = ZoneInfo("America/New_York")
DESK = {"user_id": "desk", "role": "front_desk", "sites": [SITE], "purpose": "operations"}


def concurrent(calls) -> tuple[list[float], list]:
    """Run ``calls`` (callables) all at once on green threads; latency of each in ms."""
    pool = eventlet.GreenPool(len(calls))

    def timed(call):
        started = time.perf_counter()
        try:
            result = call()
        except RemoteError as exc:
            result = exc
        return (time.perf_counter() - started) * 1000, result

    outcomes = list(pool.imap(timed, calls))
    return [o[0] for o in outcomes], [o[1] for o in outcomes]


def load(amqp_uri: str, rooms: list[str], desk: str) -> dict:
    """The 50 clients, in a process of their own (as callers are): what the
    service's callers see, not the cost of running 50 clients beside it."""
    with config.patch({"AMQP_URI": amqp_uri}):
        container = ServiceContainer(caller("bench_load", ClusterRpc))
        container.start()
        freeze_startup_objects()  # (these callers stand for the gateway: as confide-serve does there)
        try:
            return _booking_rounds([client_of(container) for _ in range(CLIENTS)], rooms, desk)
        finally:
            container.stop()


def _booking_rounds(clients, rooms, desk: str) -> dict:
    day = date.today() + timedelta(days=200)

    def booking(n: int, k: int):
        at = datetime(day.year, day.month, day.day, 8 + k % 10, 0, tzinfo=NY) + timedelta(days=k)
        return {"site_id": SITE, "room_id": rooms[n], "clinician_id": f"dr-{n}", "client_ids": [f"c-{n}-{k}"],
                "kind": "individual", "service_kind": "individual_psychotherapy", "modality": "in_person",
                "starts_at": at.astimezone(UTC).isoformat(), "planned_minutes": 50}

    concurrent([lambda c=c: c.scheduling.health() for c in clients])  # connections up
    baseline, booked = [], []
    for k in range(ROUNDS):
        latencies, _ = concurrent([lambda c=c: c.scheduling.health() for c in clients])
        baseline += latencies
        latencies, results = concurrent([lambda n=n, c=c, k=k: c.scheduling.book(desk, booking(n, k))
                                         for n, c in enumerate(clients)])
        booked += latencies
        failed = [str(r) for r in results if isinstance(r, RemoteError)]
        assert not failed, failed[:1]
    same = booking(0, ROUNDS + 3)
    contest, results = concurrent([lambda n=n, c=c: c.scheduling.book(desk, {**same, "client_ids": [f"x-{n}"]})
                                   for n, c in enumerate(clients)])
    refusals = [r.exc_type for r in results if isinstance(r, RemoteError)]
    return {"baseline": baseline, "booked": booked, "contest": contest, "wins": len(results) - len(refusals),
            "refusals": {kind: refusals.count(kind) for kind in sorted(set(refusals))}}



if __name__ == "__main__":
    print(json.dumps(load(sys.argv[1], json.loads(sys.argv[2]), sys.argv[3])))
