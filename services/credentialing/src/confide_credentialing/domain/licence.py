"""A licence's lifecycle, as plain rules (no I/O).

    pending --verified--> active --(expiry date)--> expired
       |                   |  ^
       |                suspend reinstate
       v                   v  |
    suspended <------------+  |
    any but revoked --revoke--> revoked (final)

A licence is *pending* until a primary source verifies it; an unverified
licence never licenses a session. Each transition returns the columns to change
or raises :class:`~confide_contracts.errors.InvalidRequest` (bad input) or
:class:`~confide_contracts.errors.Conflict` (the licence's state refuses it), naming the field.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from confide_contracts.errors import conflict, invalid


class LicenceStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    REVOKED = "revoked"


# licences whose expiry still matters: notices go out, and they are listed as expiring
TRACKED = (LicenceStatus.ACTIVE, LicenceStatus.PENDING, LicenceStatus.SUSPENDED)


def _in_force_or_expired(expires_on: date, today: date) -> LicenceStatus:
    return LicenceStatus.EXPIRED if expires_on <= today else LicenceStatus.ACTIVE


def verified(status: str, expires_on: date, today: date) -> dict[str, Any]:
    """A primary source confirmed the licence: a pending one comes into force
    (or is already expired)."""
    if status == LicenceStatus.PENDING:
        return {"status": _in_force_or_expired(expires_on, today).value}
    return {}


def renewed(status: str, expires_on: date, new_expiry: date, verification_result: str) -> dict[str, Any]:
    if status == LicenceStatus.REVOKED:
        raise conflict("license_id", "is revoked; record a new licence instead")
    if new_expiry <= expires_on:
        raise invalid("expires_on", f"must be after the current expiry {expires_on.isoformat()}")
    if verification_result != "verified":
        raise invalid("verification.result", "a renewal needs a verified primary source")
    # a suspension outlives a renewal: the board lifts it, not the calendar
    keep = status == LicenceStatus.SUSPENDED
    return {"expires_on": new_expiry, "status": status if keep else LicenceStatus.ACTIVE.value}


def suspended(status: str) -> dict[str, Any]:
    if status not in (LicenceStatus.ACTIVE, LicenceStatus.PENDING):
        raise conflict("license_id", f"is {status}")
    return {"status": LicenceStatus.SUSPENDED.value}


def reinstated(status: str, was_verified: bool, expires_on: date, today: date) -> dict[str, Any]:
    if status != LicenceStatus.SUSPENDED:
        raise conflict("license_id", f"is {status}, not suspended")
    if not was_verified:
        return {"status": LicenceStatus.PENDING.value}
    return {"status": _in_force_or_expired(expires_on, today).value}


def revoked(status: str) -> dict[str, Any]:
    if status == LicenceStatus.REVOKED:
        raise conflict("license_id", "is already revoked")
    return {"status": LicenceStatus.REVOKED.value}
