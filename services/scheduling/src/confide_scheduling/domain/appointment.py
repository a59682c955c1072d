"""An appointment's lifecycle, as plain rules (no I/O).

    booked --check in--> checked_in --complete--> completed
      |  \\------------------------------complete--/
      |--no show--> no_show
      \\--cancel--> cancelled

Only a booked appointment moves or is cancelled; completed, cancelled and
no-show are final. Booked and checked-in appointments hold their clinician,
clients and room (the exclusion constraint's ``active`` rows).
"""

from __future__ import annotations

from enum import StrEnum

from confide_contracts.errors import conflict


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


S = AppointmentStatus
ACTIVE = frozenset({S.BOOKED, S.CHECKED_IN})  # holding their time
BECOMES_FROM = {
    S.CHECKED_IN: (S.BOOKED,),
    S.COMPLETED: (S.BOOKED, S.CHECKED_IN),
    S.NO_SHOW: (S.BOOKED,),
    S.CANCELLED: (S.BOOKED,),
}


def transition(current: str, to: AppointmentStatus) -> AppointmentStatus:
    """``to``, or :class:`Conflict` naming ``appointment_id``."""
    if current not in BECOMES_FROM[to]:
        raise conflict("appointment_id", f"is {current}; cannot become {to}")
    return to


def must_be_booked(current: str) -> None:
    """Moving or cancelling: only a booked appointment."""
    if current != S.BOOKED:
        raise conflict("appointment_id", f"is {current}")


class WaitlistStatus(StrEnum):
    """waiting --offer--> offered --accept--> booked; --decline--> waiting"""

    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    REMOVED = "removed"
