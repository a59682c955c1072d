"""``make faults``: the clinic-day load against the whole platform while each
fault of the matrix strikes in turn -- every service's process killed, the
broker cut off, a service's database connections terminated, Vault unreachable,
a database lease revoked, the audit service down for five minutes, poison from a
producer, a slow audit database -- and then every access served held against
the audit trail. ``--short`` (``make faults-short``, also in ``make test``):
each fault for a few seconds under a light load.

Starts a platform of its own (``make run``'s, in a database prefix, broker vhost
and ports of its own; removed afterwards). Prints a table and one JSON line::

    {"faults": [{"fault": ..., "served": N, "in_trail": N, "lost": 0, "duplicated": 0, "5xx": N,
                 "recovery_s": x, ...}, ...], "lost": 0, "duplicated": 0, ...}

and exits 1 when an access served is missing from the trail or there twice, a
fault was not recovered from, a service's process died on its own (it is
started again, as Kubernetes would), or the trail does not verify.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.faults.matrix import matrix, run, table
from bench.faults.platform import Platform, broken_outbox
from bench.load.__main__ import positive
from bench.load.network import Network


def say(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make faults", description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="each fault for a few seconds, a light load")
    parser.add_argument("--only", default="", metavar="WORDS",
                        help="only the faults whose name holds one of these comma-separated words")
    parser.add_argument("--users", type=positive, help="people using it at once (default 30; short: 8)")
    parser.add_argument("--clinicians", type=positive, help="(default 6; short: 2)")
    parser.add_argument("--clients", type=positive, default=3, help="clients on each clinician's care team")
    parser.add_argument("--state", type=Path, help="where the platform's logs go (default: a new temporary folder)")
    parser.add_argument("--break-outbox", choices=["drop", "duplicate"],
                        help="break records' outbox (drop every third access event, or write each twice) "
                             "to see the run fail")
    args = parser.parse_args(argv)
    faults = matrix(args.short)
    if args.only:
        words = [w.strip() for w in args.only.split(",") if w.strip()]
        faults = [f for f in faults if any(w in f.name for w in words)]
        if not faults:
            parser.error(f"--only {args.only!r}: no fault's name holds any of these; the faults are: "
                         + "; ".join(f.name for f in matrix(args.short)))
    users = args.users or (8 if args.short else 30)
    state = (args.state or Path(tempfile.mkdtemp(prefix="confide-faults-"))).resolve()
    say(f"==> starting the platform (state and logs: {state})")
    with Platform(state, say) as platform:
        clinicians = args.clinicians or (2 if args.short else 6)
        say(f"==> building a network of {clinicians} clinicians with {args.clients} clients each")
        plan = Network(platform.base, state, say=say).build(clinicians, args.clients, users)
        took = sum(f.hold for f in faults)
        say(f"==> {len(faults)} faults, {took:.0f}s of faults under the load of {users} people")
        broken = broken_outbox(platform, "records", args.break_outbox) if args.break_outbox \
            else contextlib.nullcontext()
        started = time.monotonic()
        with broken:
            report = run(platform, plan, faults, users=users, think=0.5 if args.short else 1.25,
                         settle=2 if args.short else 10, patience=30 if args.short else 120, say=say)
    say(f"\n{table(report['faults'])}\n")
    say(f"  {report['requests']} requests in {time.monotonic() - started:.0f}s; lost {report['lost']}, "
        f"duplicated {report['duplicated']}; dead letters left {report['dead_letters_left']}; "
        f"verify {'ok' if report['verify'] else 'FAILED'}"
        + (f"; not recovered from: {', '.join(report['unrecovered'])}" if report["unrecovered"] else "")
        + (f"; died on their own: {', '.join(report['restarted'])}" if report["restarted"] else ""))
    print(json.dumps(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
