"""Jurisdictions are ISO 3166-2 subdivision codes (``US-NY``, ``CA-ON``), checked
against the ISO data in ``pycountry``."""

from __future__ import annotations

from functools import cache

import pycountry


class InvalidJurisdiction(ValueError):
    pass


@cache
def jurisdiction_name(code: str) -> str | None:
    subdivision = pycountry.subdivisions.get(code=code)
    return subdivision.name if subdivision is not None else None


def check_jurisdiction(code: str) -> str:
    """``code`` if it names an ISO 3166-2 subdivision, else :class:`InvalidJurisdiction`."""
    if not isinstance(code, str) or code != code.strip().upper() or "-" not in code:
        raise InvalidJurisdiction(f"{code!r} is not an ISO 3166-2 code such as US-NY or CA-ON")
    if jurisdiction_name(code) is None:
        raise InvalidJurisdiction(f"{code} is not an ISO 3166-2 subdivision")
    return code
