"""A bare RPC round trip, nameko as it comes against Confide's RPC
(``confide_messaging.rpc``), in the same run: idle (one call at a time) and
with 50 callers at once.

The answering services run in a process of their own (as they do in a
deployment); the callers are a service's RPC client, as the gateway's is, and
nameko's standalone client, as scripts use. The handler does nothing, so what
is measured is the RPC layer: publish, route, consume, worker, reply.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import eventlet
from confide_messaging import rpc as confide_rpc
from confide_runtime.heap import freeze_startup_objects
from nameko import config
from nameko import rpc as nameko_rpc
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ClusterRpcClient
from nameko.testing.services import dummy

from bench.common import Figures, percentile, vhost

IDLE_CALLS = 400
CONCURRENT = 50
ROUNDS = 12
PAYLOAD = {"appointment_id": "4bf92f35-77b3-4da6-a3ce-929d0e0e4736", "status": "booked"}


def caller(name: str, client) -> type:
    """A service with an RPC client (made here, under the benchmark's config: a
    client takes the broker's URI when made)."""
    return type(name, (), {"name": name, "rpc": client(), "idle": dummy(lambda self: None)})


def client_of(container: ServiceContainer) -> nameko_rpc.Client:
    """``container``'s RPC client, as a worker of it has it (the gateway's workers share one)."""
    provider = next(d for d in container.extensions if isinstance(d, nameko_rpc.ClusterRpc))
    return nameko_rpc.Client(provider.publisher.publish, provider.reply_listener.register_for_reply, {})


def proxy(container: ServiceContainer, target: str):
    """``ping`` on ``target`` through ``container``'s RPC client."""
    client = client_of(container)
    return lambda: getattr(client, target).ping(PAYLOAD)


def _idle(call, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _concurrent(call, rounds: int) -> tuple[list[float], float]:
    """Latencies in ms, and the seconds the rounds took."""
    pool = eventlet.GreenPool(CONCURRENT)

    def timed(_):
        started = time.perf_counter()
        call()
        return (time.perf_counter() - started) * 1000

    times: list[float] = []
    began = time.perf_counter()
    for _ in range(rounds):
        times += pool.imap(timed, range(CONCURRENT))
    return times, time.perf_counter() - began


def run() -> Figures:
    figures = Figures("rpc", "bare RPC round trip (the handler returns its argument; answering services in "
                             "another process)")
    with vhost() as amqp_uri, config.patch({"AMQP_URI": amqp_uri, "max_workers": CONCURRENT}):
        server = subprocess.Popen([sys.executable, "-m", "bench.rpc_echo", amqp_uri], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, cwd=Path(__file__).parents[1])
        try:
            assert server.stdout.readline().strip() == b"ready", "the echo services did not start"
            _measure(figures)
        finally:
            server.stdin.close()
            server.wait(timeout=30)
    return figures


def _measure(figures: Figures) -> None:
    containers = {"nameko": ServiceContainer(caller("caller_nameko", nameko_rpc.ClusterRpc)),
                  "confide": ServiceContainer(caller("caller_confide", confide_rpc.ClusterRpc))}
    for container in containers.values():
        container.start()
    try:
        with ClusterRpcClient() as standalone:
            callers = {"nameko": proxy(containers["nameko"], "echo_nameko"),
                       "confide": proxy(containers["confide"], "echo_confide"),
                       "standalone": lambda: standalone.echo_nameko.ping(PAYLOAD)}
            for call in callers.values():
                _idle(call, 20)  # connections and pools up
            freeze_startup_objects()  # as confide-serve does once its service has started
            idle: dict[str, list[float]] = {name: [] for name in callers}
            shared = ("nameko", "confide")  # (nameko's standalone client is not for concurrent callers)
            busy: dict[str, list[float]] = {name: [] for name in shared}
            wall = dict.fromkeys(shared, 0.0)
            for _ in range(4):  # shuffled blocks: the machine's drift falls on every variant alike
                for name in random.sample(list(callers), len(callers)):
                    idle[name] += _idle(callers[name], IDLE_CALLS // 4)
                for name in random.sample(shared, len(shared)):
                    times, seconds = _concurrent(callers[name], ROUNDS // 4)
                    busy[name] += times
                    wall[name] += seconds
    finally:
        for container in containers.values():
            container.stop()
    base = statistics.median(idle["nameko"])
    figures.add("idle_standalone_p50_ms", statistics.median(idle["standalone"]), "ms",
                "idle, nameko's standalone client (scripts), p50", base, "service client")
    figures.add("idle_nameko_p50_ms", base, "ms", "idle, a service's client, nameko as it comes, p50 (baseline)")
    figures.add("idle_p50_ms", statistics.median(idle["confide"]), "ms", "idle, a service's client, Confide's RPC, p50",
                base, "nameko", goal=2.0)
    base99 = percentile(busy["nameko"], 0.99)
    figures.add("busy_nameko_p50_ms", statistics.median(busy["nameko"]), "ms",
                f"{CONCURRENT} callers at once, nameko as it comes, p50")
    figures.add("busy_nameko_p99_ms", base99, "ms", f"{CONCURRENT} callers at once, nameko as it comes, p99 (baseline)")
    figures.add("busy_p50_ms", statistics.median(busy["confide"]), "ms", f"{CONCURRENT} callers at once, Confide, p50")
    figures.add("busy_p99_ms", percentile(busy["confide"], 0.99), "ms", f"{CONCURRENT} callers at once, Confide, p99",
                base99, "nameko", goal=50.0)
    figures.add("busy_calls_per_s", len(busy["confide"]) / wall["confide"], "calls/s",
                f"{CONCURRENT} callers at once, Confide: round trips a second",
                len(busy["nameko"]) / wall["nameko"], "nameko")

