"""Throwaway database and vhost for a benchmark run, removed afterwards."""

from __future__ import annotations

import contextlib
import os
import secrets

import requests
from confide_testing.databases import DatabaseFactory

ADMIN_URL = os.environ.get("CONFIDE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
API = "http://127.0.0.1:15672/api"
AUTH = ("guest", "guest")


@contextlib.contextmanager
def database():
    factory = DatabaseFactory(ADMIN_URL)
    try:
        yield factory.create("bench")
    finally:
        factory.drop_all()


@contextlib.contextmanager
def vhost():
    name = f"bench_{secrets.token_hex(4)}"
    requests.put(f"{API}/vhosts/{name}", auth=AUTH, timeout=10).raise_for_status()
    requests.put(
        f"{API}/permissions/{name}/guest", auth=AUTH, timeout=10,
        json={"configure": ".*", "write": ".*", "read": ".*"},
    ).raise_for_status()
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{name}"
    finally:
        requests.delete(f"{API}/vhosts/{name}", auth=AUTH, timeout=10)


def report(name: str, value: float, unit: str, baseline: float | None = None, baseline_name: str = "") -> None:
    line = f"  {name:<52} {value:>12,.0f} {unit}"
    if baseline:
        line += f"   ratio {value / baseline:5.2f} vs {baseline_name}"
    print(line, flush=True)
