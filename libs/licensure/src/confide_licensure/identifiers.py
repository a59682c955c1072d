"""Practitioner and organisation identifiers."""

from __future__ import annotations


def npi_is_valid(npi: str) -> bool:
    """A US National Provider Identifier: 10 digits whose last is the Luhn check
    digit over the number prefixed with 80840 (CMS)."""
    if not isinstance(npi, str) or len(npi) != 10 or not npi.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed("80840" + npi[:-1])):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return (10 - total % 10) % 10 == int(npi[-1])
