"""The fault matrix: each fault injected once, one at a time, while the clinic-day
load runs; then each fault's window of the load generator's own log held against
the audit trail.

For each fault: the accesses served (answers 2xx to an operation on client data,
``bench.load.ACCESSES``), how many of them are in the trail, lost (served, not in
the trail) and duplicated (the same access in the trail twice), the requests
refused by status, whether every 5xx came as a problem document and while the
fault lasted, the seconds until every service was ready and answered again after
the fault ended, and the dead letters it left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.faults.platform import Platform
from bench.load import ACCESSES
from bench.load.__main__ import HERE, locust_command


@dataclass
class Fault:
    """Something that goes wrong: ``begin``, ``meanwhile`` every half second for ``hold`` seconds, ``end``."""

    name: str
    hold: float

    def begin(self, platform: Platform) -> None:
        pass

    def meanwhile(self, platform: Platform) -> None:
        pass

    def end(self, platform: Platform) -> None:
        pass

    expected_dead_letters = 0
    keeps_down = ""  # the service it stops on purpose, while it lasts


class Baseline(Fault):
    """Nothing goes wrong: the load as it runs on a good day."""


@dataclass
class Killed(Fault):
    """A service's process killed (``kill -9``: no goodbye to the broker or the database), started again
    after ``hold``."""

    service: str = ""
    how: signal.Signals = signal.SIGKILL

    @property
    def keeps_down(self) -> str:
        return self.service

    def begin(self, platform):
        platform.kill(self.service, self.how)

    def end(self, platform):
        platform.restart(self.service)


@dataclass
class Cut(Fault):
    """Every service cut off from RabbitMQ or from Vault (``part``: the platform's proxy to it, ``broker`` or
    ``vault``): their connections dropped and new ones refused, then let back."""

    part: str = "broker"

    def begin(self, platform):
        getattr(platform, self.part).cut()

    def end(self, platform):
        getattr(platform, self.part).restore()


@dataclass
class Backends(Fault):
    """A service's PostgreSQL connections terminated (``pg_terminate_backend``), again and again."""

    service: str = ""

    def meanwhile(self, platform):
        platform.terminate_backends(self.service)


@dataclass
class LeaseRevoked(Fault):
    """A service's dynamic database credentials revoked in Vault: its role dropped, its connections ended."""

    service: str = ""

    def begin(self, platform):
        platform.revoke_leases(self.service)


class Poison(Fault):
    """A producer publishes, under its own login, an event that breaks the schema, one a megabyte long, and one
    that is not JSON at all."""

    expected_dead_letters = 3

    def begin(self, platform):
        platform.poison("records")


class SlowConsumer(Fault):
    """The audit database slow: every entry written waits 50 ms (``pg_sleep`` in a trigger)."""

    def begin(self, platform):
        platform.slow_audit(0.05)

    def end(self, platform):
        platform.slow_audit(None)


PROCESSES = ("records", "scheduling", "billing", "credentialing", "audit", "witness", "gateway")


def matrix(short: bool) -> list[Fault]:
    """``make faults`` (``short``: ``make faults-short``, each fault for a few seconds)."""
    def hold(full: float, brief: float) -> float:
        return brief if short else full

    return [
        Baseline("baseline (no fault)", hold(30, 4)),
        *[Killed(f"kill -9 {name}", hold(10, 2), service=name) for name in PROCESSES],
        Cut("broker cut off", hold(30, 4), part="broker"),
        Backends("records' PostgreSQL backends terminated", hold(30, 4), service="records"),
        Cut("Vault unreachable", hold(30, 4), part="vault"),
        LeaseRevoked("records' database lease revoked", hold(10, 3), service="records"),
        Killed("audit down", hold(300, 6), service="audit", how=signal.SIGTERM),
        Poison("poison and oversized events", hold(10, 3)),
        SlowConsumer("audit database slow (pg_sleep)", hold(60, 5)),
    ]


@dataclass
class Window:
    fault: Fault
    began: float  # (epoch seconds, as the load's log)
    ended: float = 0.0
    closed: float = 0.0  # the next fault's beginning: the requests of this window started before it
    recovery_s: float | None = None
    restarted: list[str] = field(default_factory=list)  # processes that ended on their own, started again
    dead_letters: int = 0
    requests: list[dict] = field(default_factory=list)


class Load:
    """The clinic-day load (``bench/load/locustfile.py``) in the background, each request written to ``log``."""

    def __init__(self, plan: Path, base: str, users: int, think: float, log: Path) -> None:
        self.log = log
        with open(log.with_suffix(".err"), "ab") as errors:  # (Locust's own complaints; the child keeps its copy)
            self.process = subprocess.Popen(
                locust_command(base, users, 6 * 3600, log.with_suffix("")), cwd=HERE.parents[1],
                env={**os.environ, "LOAD_PLAN": str(plan), "LOAD_THINK": str(think), "LOAD_LOG": str(log)},
                stdout=subprocess.DEVNULL, stderr=errors)

    def stop(self) -> list[dict]:
        """Stop it (Locust's own graceful stop) and read its log."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if not self.log.exists():
            raise SystemExit(f"the load did not run: see {self.log.with_suffix('.err')}")
        lines = self.log.read_text().splitlines()
        if lines and not lines[-1].endswith("}"):  # (a line cut short as Locust stopped)
            lines.pop()
        return [json.loads(line) for line in lines if line.strip()]


class Canary:
    """One request of each kind, each needing a different service, as separate people: all answer 2xx once
    the platform has recovered."""

    def __init__(self, platform: Platform, plan: dict) -> None:
        site, dr = plan["site"], plan["clinicians"][0]
        client = dr["clients"][0]
        me = platform.token(dr["id"], "clinician", [site])
        desk = platform.token("faults-canary-desk", "front_desk", [site])
        biller = platform.token("faults-canary-biller", "biller", [site])
        officer = platform.token("faults-canary-officer", "compliance_officer", [])
        self.base = f"{platform.base}/api/v1"
        self.checks = [(me, f"/clients/{client}", {}), (desk, "/day-sheet", {"site_id": site}),
                       (desk, f"/clinicians/{dr['id']}", {}), (biller, f"/clients/{client}/statement", {}),
                       (officer, "/audit/entries", {"client_id": client, "limit": 1})]

    def answered(self) -> bool:
        for token, path, params in self.checks:
            try:
                answer = requests.get(self.base + path, params=params, timeout=35,
                                      headers={"Authorization": f"Bearer {token}"})
            except requests.RequestException:
                return False
            if not answer.ok:
                return False
        return True


def recover(platform: Platform, canary: Canary, timeout: float, restarted: list[str]) -> float | None:
    """Seconds until every service is ready and the canary answered; ``None`` if not within ``timeout``."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        restarted += platform.supervise()
        if not platform.unready() and canary.answered():
            return round(time.monotonic() - began, 1)
        time.sleep(0.25)
    return None


def inject(platform: Platform, canary: Canary, faults: list[Fault], settle: float, say) -> list[Window]:
    windows: list[Window] = []
    for fault in faults:
        say(f"==> {fault.name}: {fault.hold:g}s")
        dead_before = platform.dead_letters()
        window = Window(fault, began=time.time())
        if windows:
            windows[-1].closed = window.began
        try:
            fault.begin(platform)
            until = time.monotonic() + fault.hold
            while time.monotonic() < until:
                fault.meanwhile(platform)
                window.restarted += platform.supervise(leave=fault.keeps_down)
                time.sleep(min(0.5, max(0.0, until - time.monotonic())))
        finally:  # (whatever happened, the platform is not left broken for what comes next)
            fault.end(platform)
        window.ended = time.time()
        window.recovery_s = recover(platform, canary, 180, window.restarted)
        say(f"    recovered in {window.recovery_s}s" if window.recovery_s is not None
            else "    NOT recovered within 180s")
        time.sleep(settle)  # the load at work again, before the next fault
        parked = time.monotonic() + 30  # (what a fault sends to the dead letters may come behind a backlog)
        while platform.dead_letters() - dead_before < fault.expected_dead_letters and time.monotonic() < parked:
            time.sleep(0.5)
        window.dead_letters = platform.dead_letters() - dead_before
        windows.append(window)
    windows[-1].closed = time.time()
    return windows


def served(request: dict) -> bool:
    """An answer that showed client data (a list with nothing on it -- a day sheet, invoices -- shows none, and
    records no access)."""
    return request["op"] in ACCESSES and 200 <= request["status"] < 300 and request.get("listed") != 0


def await_trail(platform: Platform, traces: list[str], patience: float, say) -> dict[str, tuple[int, int]]:
    """The trail's entries for ``traces``, once all are there (and a few seconds more, for a late copy to show)
    or nothing has arrived for ``patience`` seconds (the outboxes and the audit service catching up after the
    last fault)."""
    found, last, since = {}, -1, time.monotonic()
    while True:
        found = platform.trail(traces)
        if len(found) == len(traces):
            time.sleep(min(patience, 5))
            return platform.trail(traces)
        if len(found) != last:
            last, since = len(found), time.monotonic()
        elif time.monotonic() - since > patience:
            say(f"    {len(traces) - len(found)} served accesses still not in the trail after {patience:.0f}s "
                "without progress")
            return found
        time.sleep(1)


def reconcile(windows: list[Window], log: list[dict], trail: dict[str, tuple[int, int]]) -> list[dict]:
    for request in log:  # by when it began; one cut off without an answer, by when that happened (the next
        at = request["t"] + (request["ms"] / 1000 if request["status"] == 0 else 0)  # fault's, a gateway killed)
        for window in windows:
            if window.began <= at < window.closed or (window is windows[-1] and at >= window.closed):
                window.requests.append(request)
                break
    rows = []
    for window in windows:
        accesses = [r for r in window.requests if served(r)]
        untraced = [r for r in accesses if not r["trace"]]
        # in the trail: an access for it -- for a list, one for each client it showed (a list that lost some is
        # lost)
        in_trail = [r for r in accesses if r["trace"] in trail and trail[r["trace"]][1] >= (r.get("clients") or 1)]
        errors = [r for r in window.requests if r["status"] >= 500 or r["status"] == 0]
        recovered_at = window.ended + (window.recovery_s or 0.0)
        rows.append({
            "fault": window.fault.name, "requests": len(window.requests), "served": len(accesses),
            "in_trail": len(in_trail), "lost": len(accesses) - len(untraced) - len(in_trail),
            "untraced": len(untraced),
            "duplicated": sum(trail[r["trace"]][0] - trail[r["trace"]][1] for r in in_trail),
            "duplicated_in": sorted({r["op"] for r in in_trail if trail[r["trace"]][0] > trail[r["trace"]][1]}),
            "5xx": sum(1 for r in errors if r["status"] >= 500),
            "refused": dict(sorted(Counter(str(r["status"]) for r in window.requests
                                           if r["status"] >= 400 or r["status"] == 0).items())),
            # which operations failed, and their trace ids (to find them in the services' logs and spans)
            "errors_by_op": dict(sorted(Counter(f'{r["status"]} {r["op"]}' for r in errors).items())),
            "error_traces": [r["trace"] for r in errors if r["trace"]][:20],
            "5xx_not_problem": sum(1 for r in errors if r["status"] >= 500 and not r["problem"]),
            "503_without_retry_after": sum(1 for r in errors if r["status"] == 503 and not r.get("retry_after")),
            # (started once it had recovered and over before the next fault: nothing else to blame)
            "errors_after_recovery": sum(1 for r in errors if r["t"] > recovered_at + 1.0
                                         and r["t"] + r["ms"] / 1000 < window.closed),
            "slowest_s": round(max((r["ms"] for r in window.requests), default=0) / 1000, 1),
            "recovery_s": window.recovery_s, "restarted": window.restarted,
            "dead_letters": window.dead_letters, "expected_dead_letters": window.fault.expected_dead_letters,
        })
    return rows


def table(rows: list[dict]) -> str:
    head = (f"  {'fault':<40} {'served':>7} {'in trail':>8} {'lost':>5} {'dup':>4} {'5xx':>5} {'recovery':>9} "
            f"{'dead':>5}  refused (status x count); processes that died on their own")
    lines = [head]
    for row in rows:
        recovery = "-" if row["recovery_s"] is None else f"{row['recovery_s']:.1f}s"
        refused = " ".join(f"{status}x{count}" for status, count in row["refused"].items()) or "-"
        if row["restarted"]:
            refused += f"; DIED: {', '.join(row['restarted'])}"
        lines.append(f"  {row['fault']:<40} {row['served']:>7} {row['in_trail']:>8} {row['lost']:>5} "
                     f"{row['duplicated']:>4} {row['5xx']:>5} {recovery:>9} {row['dead_letters']:>5}  {refused}")
    return "\n".join(lines)


def run(platform: Platform, plan: dict, faults: list[Fault], *, users: int, think: float, settle: float,
        patience: float, say=print) -> dict:
    """The load, the faults one by one, the reconciliation and ``verify``: the report (``ok`` when no access is
    missing or duplicated, every fault recovered from, and the trail verifies)."""
    plan_path = platform.state / "faults-plan.json"
    plan_path.write_text(json.dumps(plan))
    log = platform.state / f"faults-{int(time.time())}.jsonl"
    canary = Canary(platform, plan)
    started = time.time()
    load = Load(plan_path, platform.base, users, think, log)
    try:
        time.sleep(settle)  # (the people arriving)
        windows = inject(platform, canary, faults, settle, say)
    finally:
        requests_log = load.stop()
    windows[0].began = started
    accesses = sorted({r["trace"] for r in requests_log if served(r) and r["trace"]})
    say(f"==> the trail: waiting for {len(accesses)} accesses served to be in it")
    rows = reconcile(windows, requests_log, await_trail(platform, accesses, patience, say))
    verified, verify_faults = verify(platform, say)
    lost, duplicated = sum(r["lost"] for r in rows), sum(r["duplicated"] for r in rows)
    untraced = sum(r["untraced"] for r in rows)  # (served without a trace id: not to be found, so not checked)
    unrecovered = [r["fault"] for r in rows if r["recovery_s"] is None]
    restarted = sorted({name for r in rows for name in r["restarted"]})
    return {"faults": rows, "lost": lost, "duplicated": duplicated, "requests": len(requests_log),
            "dead_letters_left": platform.dead_letters(), "verify": verified, "unrecovered": unrecovered,
            "restarted": restarted, "untraced": untraced, "verify_faults": verify_faults,
            "ok": lost == 0 and duplicated == 0 and not untraced and not unrecovered and not restarted and verified}


def verify(platform: Platform, say, within: float = 90) -> tuple[bool, list[str]]:
    """``verify`` through the gateway, as a compliance officer would after an incident: a checkpoint signed,
    then every chain recomputed, every checkpoint's signatures checked, the witness's cosignatures asked of it
    -- again every few seconds for ``within`` seconds while a fault remains (the witness cosigns as the audit
    service sends it the checkpoint; a verify at once may find it not yet vouched for). Whether it passed, and
    the faults of the last attempt."""
    token = platform.token("faults-verify", "compliance_officer", [])
    headers = {"Authorization": f"Bearer {token}"}
    signed = requests.post(f"{platform.base}/api/v1/audit/checkpoints", timeout=120, headers=headers)
    if not signed.ok:
        say(f"    a checkpoint was refused: {signed.status_code} {signed.text[:300]}")
        return False, [f"checkpoint refused: {signed.status_code}"]
    deadline, faults = time.monotonic() + within, ["not run"]
    while True:
        answer = requests.get(f"{platform.base}/api/v1/audit/verification", timeout=600, headers=headers)
        if not answer.ok:
            faults = [f"verify answered {answer.status_code}: {answer.text[:300]}"]
        else:
            faults = [f"chain {chain['chain']}: {fault}" for chain in answer.json()["chains"]
                      for fault in chain["faults"]]
            if answer.json()["ok"] is True:
                return True, []
        if time.monotonic() > deadline:
            for fault in faults:
                say(f"    verify: {fault}")
            return False, faults
        time.sleep(3)
