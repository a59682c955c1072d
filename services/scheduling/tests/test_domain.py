"""Pure scheduling logic: wall-clock instants across DST, interval arithmetic, slots."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from confide_scheduling.domain.localtime import UnknownTimeZone, instant, zone
from confide_scheduling.domain.series import InvalidRule, occurrences
from confide_scheduling.domain.slots import grid_slots, is_free, merge, subtract
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.unit  # pure: no PostgreSQL, RabbitMQ or OpenBao

NY = ZoneInfo("America/New_York")
T0 = datetime(2027, 1, 4, 14, 0, tzinfo=UTC)


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def test_wall_clock_instants_across_dst():
    assert instant(date(2027, 3, 13), time(9), NY) == datetime(2027, 3, 13, 14, tzinfo=UTC)
    assert instant(date(2027, 3, 15), time(9), NY) == datetime(2027, 3, 15, 13, tzinfo=UTC)
    assert instant(date(2027, 3, 14), time(2, 30), NY) is None  # does not exist: spring forward
    assert instant(date(2027, 11, 7), time(1, 30), NY) == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # first of two
    with pytest.raises(UnknownTimeZone):
        zone("Mars/Olympus_Mons")


def test_subtract_and_free():
    busy = merge([(at(30), at(60)), (at(50), at(90)), (at(200), at(210))])
    assert busy == [(at(30), at(90)), (at(200), at(210))]
    assert subtract([(at(0), at(240))], busy) == [(at(0), at(30)), (at(90), at(200)), (at(210), at(240))]
    assert is_free(busy, at(0), at(30)) and is_free(busy, at(90), at(200))
    assert not is_free(busy, at(20), at(31)) and not is_free(busy, at(89), at(100))


def test_slots_stay_on_the_windows_grid():
    slots = grid_slots([(at(0), at(180))], merge([(at(60), at(110))]), 50, 30, at(-100))
    assert [s[0] for s in slots] == [at(0), at(120)]
    assert [s[0] for s in grid_slots([(at(0), at(180))], [], 60, 60, at(61))] == [at(120)]


intervals = st.lists(st.tuples(st.integers(0, 500), st.integers(1, 120)), max_size=12).map(
    lambda xs: [(at(a), at(a + n)) for a, n in xs])


@given(busy=intervals, minutes=st.integers(5, 120), step=st.integers(5, 60))
def test_no_slot_ever_overlaps_anything_busy(busy, minutes, step):
    taken = merge(busy)
    for start, end in grid_slots([(at(0), at(600))], taken, minutes, step, at(0)):
        assert end - start == timedelta(minutes=minutes) and end <= at(600)
        assert all(end <= b_start or start >= b_end for b_start, b_end in busy)


def test_series_rules():
    assert len(occurrences("FREQ=WEEKLY;INTERVAL=2;COUNT=5", datetime(2027, 1, 4, 10))) == 5
    assert len(occurrences("FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20280101T000000", datetime(2027, 1, 4, 10))) == 12
    for bad in ("FREQ=WEEKLY", "FREQ=HOURLY;COUNT=3", "weekly", "FREQ=DAILY;COUNT=500", "FREQ=DAILY;BYHOUR=9;COUNT=2",
                "FREQ=WEEKLY;UNTIL=20300101T000000", "FREQ=MONTHLY;BYMONTHDAY=31;BYDAY=MO;COUNT=9",
                "FREQ=MONTHLY;BYDAY=6MO;COUNT=2", "FREQ=WEEKLY;BYDAY=1MO;COUNT=2", "FREQ=WEEKLY;BYDAY=MON;COUNT=2",
                "FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=31;COUNT=1"):
        with pytest.raises(InvalidRule):
            occurrences(bad, datetime(2027, 1, 4, 10))
