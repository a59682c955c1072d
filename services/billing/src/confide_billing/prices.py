"""Price lists and site settings, an admin's: fees per code, payer and site;
the sliding scale; no-show and late-cancellation fees; the billing provider."""

from __future__ import annotations

from typing import Any

from confide_messaging import UnitOfWork

from confide_billing import models as m
from confide_billing import store


def set_fee(uow: UnitOfWork, data: dict[str, Any]):
    fee_id = store.new_id()
    store.add_fee(uow.session.connection(), fee_id, data)
    return fee_id


def set_sliding_scale(uow: UnitOfWork, data: dict[str, Any]) -> None:
    store.replace_scale(uow.session.connection(), data["site_id"], data["currency"], data["tiers"])


def set_site_policy(uow: UnitOfWork, data: dict[str, Any]) -> None:
    store.upsert(uow.session.connection(), m.site_policies, "site_id", data)


def set_billing_provider(uow: UnitOfWork, data: dict[str, Any]) -> None:
    store.upsert(uow.session.connection(), m.billing_providers, "site_id", data)
