"""Wall-clock time at a site. Templates and series are kept in the site's local
time and turned into instants per date, so 09:00 stays 09:00 across daylight
saving changes; a local time that does not exist that day (the spring-forward
gap) yields nothing, one that happens twice (fall back) means its first
occurrence."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from confide_contracts.time_zones import UnknownTimeZone, zone

__all__ = ["UnknownTimeZone", "instant", "local_instant", "zone"]


def instant(day: date, at: time, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``tz``; ``None`` in a gap."""
    local = datetime.combine(day, at, tzinfo=tz)  # fold=0: the first of two, if ambiguous
    there_and_back = local.astimezone(UTC).astimezone(tz)
    if there_and_back.replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return local.astimezone(UTC)


def local_instant(naive: datetime, tz: ZoneInfo) -> datetime | None:
    return instant(naive.date(), naive.time(), tz)
