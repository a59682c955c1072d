"""Recurring series: an RFC 5545 RRULE over the site's wall-clock time
(``python-dateutil``), bounded so a series always ends."""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta

from dateutil.rrule import rrulestr

MAX_OCCURRENCES = 104
HORIZON = timedelta(days=731)  # a series ends within two years of its first session
PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "WKST"}


class InvalidRule(ValueError):
    pass


def occurrences(rule: str, first_local: datetime) -> list[datetime]:
    """The wall-clock starts of a series (naive, in the site's zone)."""
    if not isinstance(rule, str) or not rule.startswith("FREQ="):
        raise InvalidRule("an RRULE such as FREQ=WEEKLY;INTERVAL=2;COUNT=10")
    if not re.match(r"FREQ=(DAILY|WEEKLY|MONTHLY)(;|$)", rule):
        raise InvalidRule("only DAILY, WEEKLY or MONTHLY series")
    if "COUNT=" not in rule and "UNTIL=" not in rule:
        raise InvalidRule("a series needs COUNT or UNTIL")
    unsupported = sorted({part.split("=")[0] for part in rule.split(";")} - PARTS)
    if unsupported:  # BYMONTH, BYSETPOS and the like can ask for a day that never comes (February 31st)
        raise InvalidRule(f"{', '.join(unsupported)} not supported; use {', '.join(sorted(PARTS))}")
    byday = re.search(r"(?:^|;)BYDAY=([^;]*)", rule)
    if (byday and not all(re.fullmatch(r"([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)", d) for d in byday.group(1).split(","))) \
            or (byday and not rule.startswith("FREQ=MONTHLY") and re.search(r"[0-9]", byday.group(1))):
        raise InvalidRule("BYDAY is days such as MO,TH; in a MONTHLY rule, 1MO to 5MO or -1FR (the first Monday, "
                          "the last Friday)")
    try:
        parsed = rrulestr(rule, dtstart=first_local)
        horizon = first_local + HORIZON
        with warnings.catch_warnings():  # COUNT and UNTIL together: dateutil stops at whichever comes first
            warnings.simplefilter("ignore", DeprecationWarning)
            # bounded, so that a series always ends
            bounded = parsed.replace(until=min(parsed._until or horizon, horizon))
    except (ValueError, TypeError) as exc:
        raise InvalidRule(f"not a valid RRULE: {exc}") from None
    starts = []
    for when in bounded:
        starts.append(when)
        if len(starts) > MAX_OCCURRENCES:
            raise InvalidRule(f"more than {MAX_OCCURRENCES} occurrences; shorten COUNT or UNTIL")
    if not starts:
        raise InvalidRule(f"the rule yields no occurrence before {horizon:%Y-%m-%d}")
    if (parsed._until or horizon) > horizon or len(starts) < (parsed._count or 0):
        raise InvalidRule(f"a series ends within two years of its first session (by {horizon:%Y-%m-%d})")
    return starts


def with_end(rule: str, count: int | None = None, until: datetime | None = None) -> str:
    """The rule ending otherwise: after ``count`` occurrences in all, or on ``until`` (wall-clock)."""
    parts = [p for p in rule.split(";") if p and p.split("=")[0] not in ("COUNT", "UNTIL")]
    parts.append(f"COUNT={count}" if count is not None else f"UNTIL={until:%Y%m%dT%H%M%S}")
    return ";".join(parts)
