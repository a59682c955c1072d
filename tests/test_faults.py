"""``make faults-short`` in the suite: the whole platform (``make run``'s, in a
prefix, vhost and ports of its own) under the clinic-day load while each fault
of the matrix strikes for a few seconds -- and every access served found in the
audit trail, once. And the same harness failing when records' outbox is broken
the way a faulty release could break it: it can fail."""

from __future__ import annotations

import pytest

from bench.faults.matrix import Baseline, matrix, run, table
from bench.faults.platform import Platform, broken_outbox
from bench.load.network import Network

pytestmark = pytest.mark.timeout(1500)  # (one platform for the module: started once, about 2 minutes)


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    with Platform(tmp_path_factory.mktemp("faults"), say=lambda _: None) as platform:
        yield platform


@pytest.fixture(scope="module")
def plan(platform):
    return Network(platform.base, platform.state, say=lambda _: None).build(2, 3, 8)


def light(platform: Platform, plan: dict, faults, patience: float = 30) -> dict:
    return run(platform, plan, faults, users=8, think=0.5, settle=2, patience=patience, say=lambda _: None)


def test_through_every_fault_no_access_served_is_missing_from_the_trail_or_in_it_twice(platform, plan):
    report = light(platform, plan, matrix(short=True))
    rows = {row["fault"]: row for row in report["faults"]}
    assert report["lost"] == 0 and report["duplicated"] == 0, table(report["faults"])
    assert report["verify"] and not report["unrecovered"] and not report["restarted"], table(report["faults"])
    assert list(rows) == [fault.name for fault in matrix(short=True)]
    assert all(row["served"] > 0 for row in rows.values()), table(report["faults"])  # the load ran throughout
    assert rows["poison and oversized events"]["dead_letters"] == 3
    # an error is a problem document; a part out of reach is a 503 to retry, never a 500
    assert all(row["5xx_not_problem"] == 0 for row in rows.values()), table(report["faults"])
    assert not [row["fault"] for row in rows.values() if "500" in row["refused"]], table(report["faults"])
    assert all(row["503_without_retry_after"] == 0 for row in rows.values()), report
    assert report["ok"]


@pytest.mark.parametrize("how, figure", [("drop", "lost"), ("duplicate", "duplicated")])
def test_a_broken_outbox_fails_the_run(platform, plan, how, figure):
    with broken_outbox(platform, "records", how):
        report = light(platform, plan, [Baseline("baseline, records' outbox broken", 5)], patience=10)
    assert report[figure] > 0, table(report["faults"])
    assert not report["ok"]
