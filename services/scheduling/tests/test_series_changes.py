"""A series changed from an occurrence on: moved, given to another clinician,
extended as it now stands, ended after a date."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from confide_testing import random_id
from nameko.exceptions import RemoteError
from test_series_and_slots import NY, local


def test_a_series_moved_reassigned_extended_and_ended(network, rpc):
    s, dr, colleague = rpc.scheduling, network.clinician(), network.clinician()
    first = datetime(2027, 3, 1, 10, 0, tzinfo=NY).astimezone(UTC)
    made = s.book_series(network.desk, {"appointment": network.appointment(dr, first, clients=[random_id("c")]),
                                        "rrule": "FREQ=WEEKLY;COUNT=3"})
    series_id, booked = made["series_id"], made["appointments"]
    s.reschedule(network.desk, booked[1]["id"], {"starts_at": datetime(2027, 3, 8, 11, 0, tzinfo=NY).isoformat(),
                                                 "scope": "following"})
    # extended as it now stands: 11:00, across the clock change, with the same clinician
    added = s.extend_series(network.desk, series_id, {"count": 5})
    assert [local(a) for a in added["appointments"]] == ["03-22 11:00", "03-29 11:00"]
    assert [a["occurrence"] for a in added["appointments"]] == [3, 4] and "COUNT=5" in added["rrule"]
    # given to a colleague from the fourth on
    moved = s.reassign(network.desk, added["appointments"][0]["id"], {"clinician_id": colleague,
                                                                      "scope": "following"})["reassigned"]
    assert [(a["occurrence"], a["clinician_id"]) for a in moved] == [(3, colleague), (4, colleague)]
    more = s.extend_series(network.desk, series_id, {"until": "2027-04-05"})["appointments"]
    assert [(local(a), a["clinician_id"]) for a in more] == [("04-05 11:00", colleague)]
    # ended after the 22nd: the two after it cancelled by the clinic
    ended = s.end_series(network.desk, series_id, {"last_date": "2027-03-22", "reason": "treatment complete"})
    assert [(local(a), a["cancelled_by"]) for a in ended["cancelled"]] == [("03-29 11:00", "clinic"),
                                                                          ("04-05 11:00", "clinic")]
    assert "UNTIL=20270322T235959" in ended["rrule"]
    for bad, field in (({"count": 2}, "count"), ({"count": 6, "until": "2027-05-01"}, "count"),
                       ({"until": "2029-12-31"}, "until")):
        with pytest.raises(RemoteError) as refused:
            s.extend_series(network.desk, series_id, bad)
        assert field in str(refused.value), bad
    with pytest.raises(RemoteError, match="NotFound"):
        s.end_series(network.desk, str(uuid.uuid4()), {"last_date": "2027-03-22", "reason": "x" * 3})
