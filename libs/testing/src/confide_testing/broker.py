"""Broker definitions loaded into the real RabbitMQ for a test: a vhost and
users of their own, removed afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import requests

from confide_testing.helpers import random_id

API = "http://127.0.0.1:15672/api"
GUEST = ("guest", "guest")


@contextmanager
def imported(defs: dict) -> Iterator[tuple[str, str]]:
    """``defs`` (as ``confide-broker-definitions`` makes them) loaded into a fresh
    vhost, each user's name suffixed: (vhost, suffix)."""
    vhost, suffix = random_id("defs"), random_id("")
    mine = json.loads(json.dumps(defs).replace('"vhost": "/"', f'"vhost": "{vhost}"'))
    mine["vhosts"] = [{"name": vhost}]
    for entry in (*mine["users"], *mine["permissions"], *mine.get("topic_permissions", ())):
        key = "name" if "name" in entry else "user"
        entry[key] += suffix
    try:
        answer = requests.post(f"{API}/definitions", json=mine, auth=GUEST, timeout=30)
        assert answer.status_code in (201, 204), answer.text
        yield vhost, suffix
    finally:
        requests.delete(f"{API}/vhosts/{quote(vhost, safe='')}", auth=GUEST, timeout=30)
        for user in mine["users"]:
            requests.delete(f"{API}/users/{quote(user['name'], safe='')}", auth=GUEST, timeout=10)


def login(vhost: str, user: str) -> str:
    """A password for ``user`` (set now); the AMQP URI to connect as them."""
    password = random_id("pw")
    requests.put(f"{API}/users/{quote(user, safe='')}", auth=GUEST, timeout=10,
                 json={"password": password, "tags": ""}).raise_for_status()
    return f"amqp://{quote(user, safe='')}:{password}@127.0.0.1:5672/{quote(vhost, safe='')}"
