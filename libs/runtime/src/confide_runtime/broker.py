"""RabbitMQ as code: the broker definitions (exchanges, quorum queues,
dead-letter queues, policies, one user per service with permissions on its own
queues only), made from what the services declare so the two cannot disagree.

``confide-broker-definitions`` prints them; ``infra/rabbitmq/definitions.json``
is its output (a test keeps the file equal to the code), loaded by the broker
at start (compose, the cluster's RabbitMQ) or with ``rabbitmqadmin import``.
Users carry no password: each service's password is set at deployment
(``rabbitmqctl change_password confide-records ...``, from the secret store).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib
import inspect
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from confide_messaging import topology
from confide_messaging.consumer import EventHandler
from kombu import Exchange, Queue
from nameko.rpc import Rpc

from confide_runtime.manifest import ServiceManifest, discover

RPC_EXCHANGE = "nameko-rpc"
SHARED_EXCHANGES = (topology.EVENTS_EXCHANGE, topology.UNROUTED_EXCHANGE, RPC_EXCHANGE)


def user_name(service: str) -> str:
    return f"confide-{service}"


def _entrypoints(cls: type) -> list[tuple[str, Any]]:
    found = []
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        for entrypoint in getattr(member, "nameko_entrypoints", ()):
            found.append((name, entrypoint))
    return found


def service_topology(manifest: ServiceManifest) -> tuple[list[Exchange], list[Queue], list[tuple[str, str, str]]]:
    """Everything ``manifest``'s service declares when it starts."""
    cls = manifest.service_class()
    exchanges: list[Exchange] = [topology.unrouted_exchange, topology.events_exchange,
                                 Exchange(RPC_EXCHANGE, type="topic", durable=True)]
    queues: list[Queue] = [topology.unrouted_queue]
    links: list[tuple[str, str, str]] = []
    entrypoints = _entrypoints(cls)
    if any(isinstance(e, Rpc) for _, e in entrypoints):
        queues.append(Queue(f"rpc-{cls.name}", exchange=exchanges[2], routing_key=f"{cls.name}.*", durable=True))
    for method, entrypoint in entrypoints:
        if isinstance(entrypoint, EventHandler):
            handler = topology.HandlerQueues(
                name=f"{cls.name}.{method}", event_types=entrypoint.event_types,
                retry_delays_ms=tuple(entrypoint.retry_delays_ms or topology.DEFAULT_RETRY_DELAYS_MS),
                single_active_consumer=entrypoint.single_active_consumer)
            queues.extend(handler.all())
    if manifest.broker_topology:
        module, _, attr = manifest.broker_topology.partition(":")
        more_exchanges, more_queues, more_links = getattr(importlib.import_module(module), attr)(manifest.config)
        exchanges += more_exchanges
        queues += more_queues
        links += more_links
    return exchanges, queues, links


def _exchange(exchange: Exchange, vhost: str) -> dict:
    return {"name": exchange.name, "vhost": vhost, "type": exchange.type, "durable": bool(exchange.durable),
            "auto_delete": bool(exchange.auto_delete), "internal": False, "arguments": dict(exchange.arguments or {})}


def _queue(queue: Queue, vhost: str) -> dict:
    return {"name": queue.name, "vhost": vhost, "durable": bool(queue.durable),
            "auto_delete": bool(queue.auto_delete), "arguments": dict(queue.queue_arguments or {})}


def _bindings(queue: Queue, vhost: str) -> list[dict]:
    pairs = [(b.exchange.name, b.routing_key) for b in (queue.bindings or ())]
    if queue.exchange is not None and queue.exchange.name:
        pairs.append((queue.exchange.name, queue.routing_key or ""))
    return [{"source": source, "vhost": vhost, "destination": queue.name, "destination_type": "queue",
             "routing_key": key, "arguments": {}} for source, key in pairs]


def permissions(service: str, vhost: str) -> dict:
    """Its own queues and exchanges; the shared exchanges; RPC reply queues."""
    own = rf"{re.escape(service)}\..*|rpc-{re.escape(service)}"
    shared = "|".join(re.escape(name) for name in SHARED_EXCHANGES)
    common = rf"{shared}|{re.escape(topology.UNROUTED_QUEUE)}|rpc\.reply-.*"
    return {"user": user_name(service), "vhost": vhost,
            "configure": f"^({own}|{common})$",
            "write": f"^({own}|{common}|amq\\.default)$",  # (retries go back through the default exchange)
            "read": f"^({own}|{common})$"}


def definitions(manifests: list[ServiceManifest] | None = None, vhost: str = "/") -> dict:
    manifests = discover() if manifests is None else manifests
    exchanges: dict[str, dict] = {}
    queues: dict[str, dict] = {}
    bindings: dict[tuple, dict] = {}
    for manifest in manifests:
        service_exchanges, service_queues, links = service_topology(manifest)
        for exchange in service_exchanges:
            exchanges[exchange.name] = _exchange(exchange, vhost)
        for queue in service_queues:
            queues[queue.name] = _queue(queue, vhost)
            for binding in _bindings(queue, vhost):
                bindings[binding["source"], binding["destination"], binding["routing_key"]] = binding
        for source, destination, key in links:
            bindings[source, destination, key] = {"source": source, "vhost": vhost, "destination": destination,
                                                  "destination_type": "exchange", "routing_key": key,
                                                  "arguments": {}}
    names = [m.name for m in manifests]
    return {
        "rabbitmq_version": "3.10",
        "users": [{"name": user_name(n), "password_hash": "", "hashing_algorithm": "rabbit_password_hashing_sha256",
                   "tags": []} for n in names],
        "vhosts": [{"name": vhost}],
        "permissions": [permissions(n, vhost) for n in names],
        "policies": [{
            # on a cluster, the leaders of the quorum queues spread over its nodes
            "vhost": vhost, "name": "confide-quorum", "pattern": r"^(confide|" + "|".join(names) + r")\.",
            "apply-to": "queues", "priority": 0,
            "definition": {"queue-leader-locator": "balanced"}}],
        "exchanges": sorted(exchanges.values(), key=lambda e: e["name"]),
        "queues": sorted(queues.values(), key=lambda q: q["name"]),
        "bindings": sorted(bindings.values(), key=lambda b: (b["source"], b["destination"], b["routing_key"])),
    }


def password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's ``rabbit_password_hashing_sha256``: base64(salt + sha256(salt + password))."""
    salt = os.urandom(4) if salt is None else salt
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def with_passwords(defs: dict, folder: Path) -> dict:
    """The definitions with each user's password from ``folder/amqp-<service>``
    (and an operator, ``confide-admin``, from ``folder/amqp-admin`` if present):
    for a broker that loads them at boot (compose). Written outside the repository."""
    users = []
    for user in defs["users"]:
        secret = folder / f"amqp-{user['name'].removeprefix('confide-')}"
        users.append({**user, "password_hash": password_hash(secret.read_text().strip())})
    admin = folder / "amqp-admin"
    if admin.exists():
        users.append({"name": "confide-admin", "password_hash": password_hash(admin.read_text().strip()),
                      "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]})
        defs["permissions"].append({"user": "confide-admin", "vhost": defs["vhosts"][0]["name"],
                                    "configure": ".*", "write": ".*", "read": ".*"})
    return {**defs, "users": users}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="confide-broker-definitions", description=__doc__.splitlines()[0])
    parser.add_argument("--vhost", default="/")
    parser.add_argument("--passwords", type=Path, help="a folder of amqp-<service> files: hash them in")
    args = parser.parse_args(argv)
    defs = definitions(vhost=args.vhost)
    if args.passwords:
        defs = with_passwords(defs, args.passwords)
    json.dump(defs, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
