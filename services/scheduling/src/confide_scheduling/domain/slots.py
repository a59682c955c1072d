"""Free slots: availability windows minus what is taken, at a fixed step."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

Interval = tuple[datetime, datetime]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def subtract(windows: Iterable[Interval], taken: Sequence[Interval]) -> list[Interval]:
    """``windows`` with every ``taken`` interval cut out (``taken`` merged and sorted)."""
    free: list[Interval] = []
    for start, end in windows:
        cursor = start
        for t_start, t_end in taken:
            if t_end <= cursor or t_start >= end:
                continue
            if t_start > cursor:
                free.append((cursor, t_start))
            cursor = max(cursor, t_end)
            if cursor >= end:
                break
        if cursor < end:
            free.append((cursor, end))
    return free


def is_free(busy: Sequence[Interval], start: datetime, end: datetime) -> bool:
    """No interval of ``busy`` (merged, sorted) overlaps [start, end)."""
    i = bisect_left(busy, (start,))
    if i > 0 and busy[i - 1][1] > start:
        return False
    return not (i < len(busy) and busy[i][0] < end)


def grid_slots(windows: Iterable[Interval], busy: Sequence[Interval], minutes: int, step: int,
               not_before: datetime) -> list[Interval]:
    """Slots of ``minutes`` on each availability window's ``step`` grid (from the
    window's start: 09:00, 09:15, ...) that overlap nothing in ``busy`` (merged,
    sorted) and start no earlier than ``not_before``."""
    length, stride = timedelta(minutes=minutes), timedelta(minutes=step)
    out = []
    for start, end in windows:
        t = start
        if t < not_before:
            t += stride * -(-(not_before - t) // stride)
        while t + length <= end:
            if is_free(busy, t, t + length):
                out.append((t, t + length))
            t += stride
    return out
