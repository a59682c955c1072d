"""``make faults-short`` in the suite, run as a person runs it (``python -m
bench.faults --short``, in a process of its own): the whole platform (``make
run``'s, in a prefix, vhost and ports of its own) under the clinic-day load while
each fault of the matrix strikes for a few seconds -- and every access served
found in the audit trail, once. And the same harness failing when records'
outbox is broken the way a faulty release could break it: it can fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.faults.matrix import matrix, table

pytestmark = pytest.mark.timeout(1500)


ROOT = Path(__file__).parents[1]


def faults(tmp_path: Path, *args: str) -> tuple[int, dict, str]:
    """``make faults-short`` with ``args``: its exit status, its JSON line, what it printed."""
    done = subprocess.run([sys.executable, "-m", "bench.faults", "--short", "--state", str(tmp_path), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=1400)
    lines = [line for line in done.stdout.splitlines() if line.startswith('{"faults"')]
    assert lines, done.stdout[-3000:] + done.stderr[-3000:]
    return done.returncode, json.loads(lines[-1]), done.stdout


def test_through_every_fault_no_access_served_is_missing_from_the_trail_or_in_it_twice(tmp_path):
    status, report, printed = faults(tmp_path)
    rows = {row["fault"]: row for row in report["faults"]}
    assert report["lost"] == 0 and report["duplicated"] == 0 and report["untraced"] == 0, table(report["faults"])
    assert report["verify"], report["verify_faults"]
    assert not report["unrecovered"] and not report["restarted"], table(report["faults"])
    assert list(rows) == [fault.name for fault in matrix(short=True)]
    assert all(row["served"] > 0 for row in rows.values()), table(report["faults"])  # the load ran throughout
    assert rows["poison and oversized events"]["dead_letters"] == 3
    # an error is a problem document; a part out of reach is a 503 to retry, never a 500
    assert all(row["5xx_not_problem"] == 0 for row in rows.values()), table(report["faults"])
    assert not [row["fault"] for row in rows.values() if "500" in row["refused"]], table(report["faults"])
    assert all(row["503_without_retry_after"] == 0 for row in rows.values()), report
    # a 5xx (or a refused connection) only while the fault lasts: none from a request begun once the platform
    # had recovered
    assert all(row["errors_after_recovery"] == 0 for row in rows.values()), [
        (row["fault"], row["errors_after_recovery"], row["errors_by_op"], row["error_traces"])
        for row in rows.values() if row["errors_after_recovery"]]
    assert status == 0 and report["ok"], printed[-2000:]


@pytest.mark.parametrize("how, figure", [("drop", "lost"), ("duplicate", "duplicated")])
def test_a_broken_outbox_fails_the_run(tmp_path, how, figure):
    status, report, _ = faults(tmp_path, "--only", "baseline", "--break-outbox", how)
    assert report[figure] > 0, table(report["faults"])
    assert status == 1 and not report["ok"]
