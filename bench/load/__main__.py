"""``make load``: a clinic day against the running platform (``make run`` in
another terminal), through the gateway over HTTP.

Builds a network of the size asked for (``--clinicians``, ``--clients`` each)
through the API, then runs Locust headless with ``--users`` people at once --
clinicians, front desk, a biller, a compliance officer, in that proportion
(``bench/load/locustfile.py``) -- for ``--seconds``. Reports throughput,
p50/p95/p99 and errors per operation from Locust's own figures, and the CPU
each service's processes used meanwhile, then one JSON line::

    {"bench": "load", "figures": {"requests_per_s": ..., "operations": {...}, "cpu_cores": {...}}, ...}
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests
from confide_runtime.stack import free_port

from bench.load.network import Network

HERE = Path(__file__).parent
TICKS = os.sysconf("SC_CLK_TCK")
# more processes of these answer more (RPC consumers of one queue; outbox relays claim rows with SKIP LOCKED);
# the gateway is one process here (one port), the audit service one consumer a chain
STATELESS = ("records", "scheduling", "billing", "credentialing")
POOL_PER_REPLICA = 3  # (and as many again in overflow)


def service_processes() -> dict[str, list[int]]:
    """The platform's processes by service (``confide_runtime.serve <service>``),
    and the broker's and the database's (on this machine)."""
    found: dict[str, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"confide_runtime.serve" in argv:
            name = argv[argv.index(b"confide_runtime.serve") + 1].decode()
        elif argv[0].endswith(b"beam.smp"):
            name = "rabbitmq"
        elif argv[0].startswith(b"postgres"):
            name = "postgresql"
        else:
            continue
        found.setdefault(name, []).append(int(entry.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return total


def locust_command(base: str, users: int, seconds: int, prefix: Path) -> list[str]:
    """Locust, headless, running ``locustfile.py``: ``users`` people for ``seconds``, its figures to ``prefix``*.csv."""
    return [sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless", "--only-summary",
            "-u", str(users), "-r", str(max(1, users // 5)), "-t", f"{seconds}s", "--host", base,
            "--csv", str(prefix), "--loglevel", "WARNING"]


def locust(plan_path: Path, base: str, users: int, seconds: int, think: float, prefix: Path) -> None:
    finished = subprocess.run(locust_command(base, users, seconds, prefix), cwd=HERE.parents[1], check=False,
                              env={**os.environ, "LOAD_PLAN": str(plan_path), "LOAD_THINK": str(think)},
                              stdout=subprocess.DEVNULL)
    # (1: some requests failed -- they are in the report; but without its figures it did not run)
    if finished.returncode not in (0, 1) or not Path(f"{prefix}_stats.csv").exists():
        raise SystemExit(f"Locust did not run ({finished.returncode}); `make load` installs it (uv's group `load`)")


def operations(prefix: Path) -> dict[str, dict]:
    rows = {}
    with open(f"{prefix}_stats.csv", newline="") as stats:
        for row in csv.DictReader(stats):
            rows[row["Name"]] = {"requests": int(row["Request Count"]), "errors": int(row["Failure Count"]),
                                 "per_s": round(float(row["Requests/s"]), 1), "p50_ms": float(row["50%"]),
                                 "p95_ms": float(row["95%"]), "p99_ms": float(row["99%"])}
    return rows


def measure(plan_path: Path, args) -> dict:
    """One Locust run: its figures, printed as a table, and the CPU each process group used."""
    processes = service_processes()
    before = {name: cpu_seconds(pids) for name, pids in processes.items()}
    began = time.monotonic()
    prefix = args.state / "load"
    locust(plan_path, args.base, args.users, args.seconds, args.think, prefix)
    wall = time.monotonic() - began
    cores = {name: round((cpu_seconds(pids) - before[name]) / wall, 2) for name, pids in processes.items()}
    ops = operations(prefix)
    total = ops.pop("Aggregated", None) or {"requests": 0, "errors": 0, "per_s": 0.0}
    print(f"\n  {'operation':<34} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>7}")
    for name, row in sorted(ops.items(), key=lambda item: -item[1]["requests"]):
        print(f"  {name:<34} {row['per_s']:>7.1f} {row['p50_ms']:>7.0f} {row['p95_ms']:>7.0f} {row['p99_ms']:>7.0f} "
              f"{row['errors']:>7}")
    print(f"  {'all':<34} {total['per_s']:>7.1f} {total.get('p50_ms', 0):>7.0f} {total.get('p95_ms', 0):>7.0f} "
          f"{total.get('p99_ms', 0):>7.0f} {total['errors']:>7}")
    print("  CPU (cores) while it ran: " + ", ".join(f"{name} {used}" for name, used in sorted(cores.items())),
          flush=True)
    return {"requests_per_s": total["per_s"], "requests": total["requests"], "errors": total["errors"],
            "p50_ms": total.get("p50_ms"), "p95_ms": total.get("p95_ms"), "p99_ms": total.get("p99_ms"),
            "operations": ops, "cpu_cores": cores}


@contextlib.contextmanager
def replicas(state: Path, services: tuple[str, ...], count: int):
    """``count`` processes of each of ``services`` while the block runs: the
    running one, and more started as it was (its command and environment, a
    probe port of their own), stopped afterwards."""
    running = service_processes()
    extra: list[subprocess.Popen] = []
    try:
        for name in services:
            if name not in running:
                raise SystemExit(f"{name} is not running: `make load` runs against `make run`")
            pid = running[name][0]
            argv = [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
            env = dict(line.split("=", 1) for line in Path(f"/proc/{pid}/environ").read_text().split("\0")
                       if "=" in line)
            for n in range(1, count):
                port = free_port()
                log = open(state / f"{name}-replica-{n}.log", "ab")
                # a smaller pool each: PostgreSQL here allows 100 connections for everything
                extra.append(subprocess.Popen(argv, env={**env, "CONFIDE_HEALTH_ADDRESS": f"127.0.0.1:{port}",
                                                         "CONFIDE_DATABASE_POOL_SIZE": str(POOL_PER_REPLICA)},
                                              stdout=log, stderr=subprocess.STDOUT))
                _ready(port, f"{name} replica {n}")
        yield
    finally:
        for process in extra:
            process.terminate()
        for process in extra:
            process.wait(timeout=30)


def _ready(port: int, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{what} was not ready within {timeout:.0f}s")


def positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number, 1 or more")
    return number


def pause(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 60:
        raise argparse.ArgumentTypeError(f"{text!r}: seconds between requests, 0 to 60")
    return seconds


def counts(text: str) -> list[int]:
    """``--replicas 1,2,4``."""
    try:
        numbers = [int(n) for n in text.split(",")]
    except ValueError:
        numbers = []
    if not numbers or min(numbers) < 1 or max(numbers) > 8:
        raise argparse.ArgumentTypeError(f"{text!r}: numbers of processes from 1 to 8, e.g. 1,2,4")
    return numbers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make load", description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, default=Path(".run"), help="make run's state folder (its dev issuer)")
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the gateway")
    parser.add_argument("--clinicians", type=positive, default=10)
    parser.add_argument("--clients", type=positive, default=5, help="clients on each clinician's care team")
    parser.add_argument("--users", type=positive, default=40, help="people using it at once")
    parser.add_argument("--seconds", type=positive, default=60)
    parser.add_argument("--replicas", type=counts, default=[1],
                        help="e.g. 1,2,4: a run with each number of processes of the stateless services")
    parser.add_argument("--think", type=pause, default=1.25,
                        help="mean seconds a person takes between requests (0: none, to find the ceiling)")
    args = parser.parse_args(argv)
    try:
        requests.get(f"{args.base}/openapi.json", timeout=5).raise_for_status()
    except requests.RequestException as exc:
        raise SystemExit(f"no gateway answering at {args.base} ({exc.__class__.__name__}): start the platform "
                         "with `make run` in another terminal, then `make load`") from None
    print(f"==> building a network of {args.clinicians} clinicians with {args.clients} clients each", flush=True)
    started = time.monotonic()
    plan = Network(args.base, args.state, say=lambda line: print(line, flush=True)).build(args.clinicians,
                                                                                        args.clients, args.users)
    print(f"    built in {time.monotonic() - started:.0f}s (site {plan['site']})", flush=True)
    plan_path = args.state / "load-plan.json"
    plan_path.write_text(json.dumps(plan))
    runs = []
    for count in args.replicas:
        with replicas(args.state, STATELESS, count):
            print(f"==> {args.users} people at once for {args.seconds}s, {args.think:g}s between requests, "
                  f"{count} process(es) of {', '.join(STATELESS)} (Locust, headless)", flush=True)
            runs.append({"processes": count, **measure(plan_path, args)})
    figures = {"users": args.users, "think_s": args.think, "clinicians": args.clinicians,
               "clients_each": args.clients, "seconds": args.seconds, **runs[0]}
    if len(runs) > 1:
        print(f"\n  {'processes':<10} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7}")
        for run in runs:
            print(f"  {run['processes']:<10} {run['requests_per_s']:>7.1f} {run['p50_ms']:>7.0f} {run['p99_ms']:>7.0f} "
                  f"{run['errors']:>7}")
        figures["scaling"] = [{k: run[k] for k in ("processes", "requests_per_s", "p50_ms", "p99_ms", "errors")}
                              for run in runs]
    print(json.dumps({"bench": "load", "figures": figures, "goals": {}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
