"""Which expiry notice a licence is due on a given day.

Notices go at 90, 30 and 7 days before the expiry date and ``expired`` on the
day itself (a licence is valid up to the day before ``expires_on``). If the
timer missed days, the notice for the window the licence is in now goes out;
earlier ones that no longer say anything useful are skipped.
"""

from __future__ import annotations

from datetime import date

THRESHOLDS = (7, 30, 90)


def notice_due(expires_on: date, today: date) -> str | None:
    days_left = (expires_on - today).days
    if days_left <= 0:
        return "expired"
    for threshold in THRESHOLDS:
        if days_left <= threshold:
            return str(threshold)
    return None
