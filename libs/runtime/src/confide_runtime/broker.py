"""RabbitMQ as code: the broker definitions (exchanges, quorum queues,
dead-letter queues, policies, one user per service with permissions on its own
queues only, and topic permissions on the shared exchanges: what routing keys
it may publish and bind), made from what the services declare so the two cannot
disagree.

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
            exchanges.append(handler.requeue())
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
    """Configure (declare, delete): its own queues and exchanges and RPC reply
    queues only -- the shared exchanges are the definitions', which a service
    checks but may not change (``BROKER_EXCHANGES=provisioned``). Write and read:
    those, and the shared exchanges (publishing, binding its own queues). Never
    the default exchange: that would let it put a message into any queue by name
    (its retries travel by its handlers' own ``<queue>.requeue`` exchanges)."""
    # reply queues are nameko's rpc.reply-<caller>-<uuid>: its own, and its probe's standalone client's
    # (health answers only), never another service's -- the gateway's carry every answer it gets
    name = re.escape(service)
    own = rf"{name}\..*|rpc-{name}|rpc\.reply-({name}|standalone_rpc_client)-.*"
    shared = "|".join(re.escape(name) for name in SHARED_EXCHANGES)
    return {"user": user_name(service), "vhost": vhost,
            "configure": f"^({own})$", "write": f"^({own}|{shared})$", "read": f"^({own}|{shared})$"}


# nameko's reply queues are bound (and replies published) with a random UUID as the routing key
REPLY_KEY = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def calls(manifest: ServiceManifest) -> list[str] | None:
    """The services ``manifest``'s service calls over RPC (None: any, a cluster proxy)."""
    from nameko.rpc import ClusterRpc, ServiceRpc

    targets: list[str] = []
    for value in vars(manifest.service_class()).values():
        if isinstance(value, ServiceRpc):
            targets.append(value.target_service)
        elif isinstance(value, ClusterRpc):
            return None
    return sorted(set(targets))


def _alternatives(keys) -> str:
    return "|".join(re.escape(k) for k in sorted(set(keys)))


def topic_permissions(manifest: ServiceManifest, vhost: str) -> list[dict]:
    """What a service may publish and bind, by routing key, on the topic exchanges
    everyone shares: RPC requests only to the services it calls (and its own
    health, asked by its probe), replies only to reply queues, bindings only for
    its own RPC queue and reply queues -- no ``#`` that would copy every request
    and reply; events published only under its own name, bound only for the
    event types it handles."""
    service = manifest.name
    targets = calls(manifest)
    callees = "[a-z_]+" if targets is None else _alternatives([service, *targets])
    _, queues, links = service_topology(manifest)
    handled = [b["routing_key"] for q in queues for b in _bindings(q, vhost) if b["source"] == topology.EVENTS_EXCHANGE]
    handled += [key for source, _, key in links if source == topology.EVENTS_EXCHANGE]
    user = user_name(service)
    return [
        {"user": user, "vhost": vhost, "exchange": RPC_EXCHANGE,
         "write": rf"^({REPLY_KEY}|({callees})\.[a-z_]+)$",
         "read": rf"^({REPLY_KEY}|{re.escape(service)}\.\*)$"},
        {"user": user, "vhost": vhost, "exchange": topology.EVENTS_EXCHANGE,
         "write": rf"^{re.escape(service)}\.[a-z0-9_.]+$",
         "read": f"^({_alternatives(handled)})$" if handled else "^$"},
    ]


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
        "topic_permissions": [p for m in manifests for p in topic_permissions(m, vhost)],
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


def provision_logins(admin_uri: str, manifests: list[ServiceManifest], prefix: str, folder: Path,
                     management: str = "http://127.0.0.1:15672") -> dict[str, str]:
    """For ``make run``: the definitions' exchanges, queues and bindings (the
    shared exchanges are the broker's, not the services'), and a broker login
    per service (``<prefix>-<service>``, its password kept in
    ``folder/amqp-<service>``) with the permissions and topic permissions of the
    definitions, on ``admin_uri``'s vhost, through the management API as
    ``admin_uri``'s user. Each service's AMQP URI."""
    import secrets
    from urllib.parse import quote, unquote, urlsplit

    import requests

    parts = urlsplit(admin_uri)
    vhost = unquote(parts.path[1:]) or "/"
    auth = (unquote(parts.username or "guest"), unquote(parts.password or "guest"))
    defs = definitions(manifests, vhost)
    folder.mkdir(parents=True, exist_ok=True)
    uris = {}

    def put(path: str, body: dict) -> None:
        answer = requests.put(f"{management}/api/{path}", json=body, auth=auth, timeout=10)
        if answer.status_code not in (200, 201, 204):
            raise SystemExit(f"RabbitMQ refused {path}: {answer.status_code} {answer.text[:200]}")

    made = requests.post(f"{management}/api/definitions/{quote(vhost, safe='')}", auth=auth, timeout=30,
                         json={k: defs[k] for k in ("exchanges", "queues", "bindings", "policies")})
    if made.status_code not in (200, 201, 204):
        raise SystemExit(f"RabbitMQ refused the topology: {made.status_code} {made.text[:200]}")
    for manifest in manifests:
        user = f"{prefix}-{manifest.name}"
        secret = folder / f"amqp-{manifest.name}"
        if not secret.exists():
            secret.write_text(secrets.token_urlsafe(24))
            secret.chmod(0o600)
        put(f"users/{quote(user, safe='')}", {"password": secret.read_text().strip(), "tags": ""})
        grant = next(p for p in defs["permissions"] if p["user"] == user_name(manifest.name))
        put(f"permissions/{quote(vhost, safe='')}/{quote(user, safe='')}",
            {k: grant[k] for k in ("configure", "write", "read")})
        for topic in (p for p in defs["topic_permissions"] if p["user"] == user_name(manifest.name)):
            put(f"topic-permissions/{quote(vhost, safe='')}/{quote(user, safe='')}",
                {k: topic[k] for k in ("exchange", "write", "read")})
        uris[manifest.name] = (f"{parts.scheme}://{quote(user, safe='')}:{quote(secret.read_text().strip(), safe='')}"
                               f"@{parts.hostname}:{parts.port or 5672}/{quote(vhost, safe='')}")
    return uris


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
