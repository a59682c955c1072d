"""Break-the-glass grants: open for minutes, flagged on every access they
allow, and reviewed once by a compliance officer (pending -> justified |
unjustified). Pure rules; the grant's reads go through ``policy.may_read``."""

from __future__ import annotations

from enum import StrEnum

from confide_contracts.errors import conflict, invalid


class Review(StrEnum):
    PENDING = "pending"
    JUSTIFIED = "justified"
    UNJUSTIFIED = "unjustified"


def review_status(value: str) -> Review:
    """A review queue's status from a caller, or :class:`InvalidRequest` naming ``status``."""
    try:
        return Review(value)
    except ValueError:
        raise invalid("status", "must be one of " + ", ".join(r.value for r in Review)) from None


def reviewed(current: str) -> None:
    """A grant is reviewed once."""
    if current != Review.PENDING:
        raise conflict("grant_id", f"was already reviewed ({current})")
