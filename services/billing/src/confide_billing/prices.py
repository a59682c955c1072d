"""Price lists and site settings, an admin's: fees per code, payer and site;
the sliding scale; no-show and late-cancellation fees; the billing provider."""

from __future__ import annotations

from datetime import date
from typing import Any

from confide_contracts.errors import NotFound, conflict, invalid
from confide_messaging import UnitOfWork
from confide_persistence import plain

from confide_billing import models as m
from confide_billing import store


def set_fee(uow: UnitOfWork, data: dict[str, Any]):
    fee_id = store.new_id()
    store.add_fee(uow.session.connection(), fee_id, data)
    return fee_id


def fee_site(uow: UnitOfWork, fee_id) -> str:
    """The site whose prices a fee is (who may change it is that site's admin)."""
    row = store.fee_row(uow.session.connection(), fee_id)
    if row is None:
        raise NotFound(f"no fee {fee_id}")
    return row.site_id


def end_fee(uow: UnitOfWork, fee_id, until: date) -> dict[str, Any]:
    """The fee applies up to ``until`` (inclusive); a session after it takes the next fee in force, or none."""
    conn = uow.session.connection()
    row = store.fee_row(conn, fee_id, lock=True)
    if until < row.effective_from:
        raise invalid("effective_until", f"must not be before effective_from ({row.effective_from.isoformat()})")
    return plain(store.change_fee(conn, fee_id, effective_until=until))


def remove_fee(uow: UnitOfWork, fee_id) -> None:
    """Only a fee not yet in force goes: one in force (or past) is ended, so that what was charged keeps its price."""
    conn = uow.session.connection()
    row = store.fee_row(conn, fee_id, lock=True)
    if row.effective_from <= date.today():
        raise conflict("fee_id", f"in force since {row.effective_from.isoformat()}: end it (effective_until)")
    store.delete_fee(conn, fee_id)


def set_sliding_scale(uow: UnitOfWork, data: dict[str, Any]) -> None:
    store.replace_scale(uow.session.connection(), data["site_id"], data["currency"], data["tiers"])


def set_site_policy(uow: UnitOfWork, data: dict[str, Any]) -> None:
    store.upsert(uow.session.connection(), m.site_policies, "site_id", data)


def set_billing_provider(uow: UnitOfWork, data: dict[str, Any]) -> None:
    store.upsert(uow.session.connection(), m.billing_providers, "site_id", data)
