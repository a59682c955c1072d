"""IANA time zones, as sites name theirs (``America/New_York``)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class UnknownTimeZone(ValueError):
    pass


def zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or "/" not in name:
        raise UnknownTimeZone(f"{name!r} is not an IANA time zone such as America/New_York")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownTimeZone(f"{name!r} is not an IANA time zone") from None
