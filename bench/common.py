"""Throwaway database and vhost for a benchmark run, removed afterwards."""

from __future__ import annotations

import contextlib
import json
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
def transit_vault(*keys: str):
    """A private OpenBao dev server with transit at ``transit``, the gateway's
    caller key and ``keys`` in it: ``(client, transit)``, stopped afterwards."""
    from confide_access.assertions import GATEWAY
    from confide_testing.vault import DevVault
    from confide_vault import Transit, VaultClient
    from confide_vault.bootstrap import caller_key

    vault = DevVault().start()
    try:
        client = VaultClient(vault.addr, token=vault.token, ca_cert=vault.ca)
        client.hvac.sys.enable_secrets_engine(backend_type="transit", path="transit")
        transit = Transit(client, "transit")
        transit.create_key(caller_key(GATEWAY), key_type="ed25519")
        for key in keys:
            transit.create_key(key)
        yield client, transit
    finally:
        vault.stop()


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
    shown = f"{value:>12,.1f}" if unit == "ms" and value < 100 else f"{value:>12,.0f}"
    line = f"  {name:<60} {shown} {unit}"
    if baseline:
        line += f"   ratio {value / baseline:5.2f} vs {baseline_name}"
    print(line, flush=True)


def percentile(values, p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


class Figures:
    """One benchmark's figures: each printed as it is measured, and all of them at
    the end as one JSON line a script can compare across runs::

        {"bench": "rpc", "figures": {...}, "goals": {"idle_p50_ms": {"value": 1.9, "goal": 2, "met": true}}}

    A goal in milliseconds is met at or below it; any other (a rate, a ratio) at or above."""

    def __init__(self, bench: str, title: str) -> None:
        self.bench = bench
        self.figures: dict[str, float] = {}
        self.goals: dict[str, dict] = {}
        print(f"{bench}: {title}", flush=True)

    def add(self, key: str, value: float, unit: str, label: str, baseline: float | None = None,
            baseline_name: str = "", goal: float | None = None) -> float:
        if goal is not None:
            met = value <= goal if unit == "ms" else value >= goal
            label += f" (goal {'≤' if unit == 'ms' else '≥'} {goal:,g}{' ' + unit if unit != 'ratio' else ''})"
            self.goals[key] = {"value": round(value, 3), "goal": goal, "met": met}
        report(label, value, unit, baseline, baseline_name)
        self.figures[key] = round(value, 3)
        return value

    def ratio(self, key: str, value: float, baseline: float, label: str, goal: float | None = None) -> float:
        """``value / baseline`` as a figure of its own (a goal that is a ratio)."""
        ratio = value / baseline if baseline else 0.0
        if goal is not None:
            label += f" (goal ≥ {goal:g})"
            self.goals[key] = {"value": round(ratio, 3), "goal": goal, "met": ratio >= goal}
        print(f"  {label:<60} {ratio:>12.2f}", flush=True)
        self.figures[key] = round(ratio, 3)
        return ratio

    def json(self) -> str:
        return json.dumps({"bench": self.bench, "figures": self.figures, "goals": self.goals}, ensure_ascii=False)
