"""Exact money: integer minor units and an ISO 4217 currency."""

from __future__ import annotations

from dataclasses import dataclass


def sliding(amount_minor: int, percent: int) -> int:
    """``percent`` of ``amount_minor``, rounded half up to a minor unit."""
    return (amount_minor * percent + 50) // 100


@dataclass(frozen=True)
class Tier:
    name: str
    max_income_minor: int
    percent: int


def tier_for(income_minor: int | None, tiers: list[Tier]) -> Tier | None:
    """The first tier (by income ceiling) the income falls under; ``None``: full fee."""
    if income_minor is None:
        return None
    for tier in sorted(tiers, key=lambda t: t.max_income_minor):
        if income_minor <= tier.max_income_minor:
            return tier
    return None


def allocate(amount_minor: int, open_invoices: list[tuple[object, int]]) -> tuple[list[tuple[object, int]], int]:
    """Split a payment over open invoices, oldest first; returns the allocations
    and what is left over (a credit)."""
    allocations, left = [], amount_minor
    for invoice, outstanding in open_invoices:
        if left <= 0:
            break
        take = min(left, outstanding)
        if take > 0:
            allocations.append((invoice, take))
            left -= take
    return allocations, left
