"""Recurring series: an RFC 5545 RRULE over the site's wall-clock time
(``python-dateutil``), bounded so a series always ends."""

from __future__ import annotations

import re
from datetime import datetime

from dateutil.rrule import rrulestr

MAX_OCCURRENCES = 104


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
    try:
        parsed = rrulestr(rule, dtstart=first_local)
    except (ValueError, TypeError) as exc:
        raise InvalidRule(f"not a valid RRULE: {exc}") from None
    starts = []
    for when in parsed:
        starts.append(when)
        if len(starts) > MAX_OCCURRENCES:
            raise InvalidRule(f"more than {MAX_OCCURRENCES} occurrences; shorten COUNT or UNTIL")
    if not starts:
        raise InvalidRule("the rule yields no occurrence")
    return starts
