"""Lists of the books -- invoices, payments, claims, accounts -- and of the
fees, filtered, sorted and paged by key (:mod:`confide_contracts.paging`) and
kept to the caller's sites (a client's books are at their home site). Every
entry that names a client is an access recorded for that client, in the
transaction that reads it."""

from __future__ import annotations

from typing import Any

from confide_access import Action, Caller, record_access
from confide_contracts.paging import page
from confide_messaging import UnitOfWork
from confide_persistence import plain
from sqlalchemy import BigInteger, cast, func, or_, select

from confide_billing import models as m


def invoices(uow: UnitOfWork, who: Caller, q: dict[str, Any]) -> dict[str, Any]:
    i, a = m.invoices, m.allocations
    paid = select(cast(func.coalesce(func.sum(a.c.amount_minor), 0), BigInteger)).where(
        a.c.invoice_id == i.c.id).scalar_subquery()  # (a sum of bigints is numeric)
    query = _books(select(i, paid.label("paid_minor")), i, i.c.issued_at, who, q)
    return _recorded(uow, who, page(uow.session.connection(), query, {"issued": (i.c.issued_at, i.c.id)}, q, plain),
                     "Invoice")


def payments(uow: UnitOfWork, who: Caller, q: dict[str, Any]) -> dict[str, Any]:
    p = m.payments
    query = _books(select(p), p, p.c.received_at, who, q)
    if q["kind"]:
        query = query.where(p.c.kind == q["kind"])
    return _recorded(uow, who, page(uow.session.connection(), query, {"received": (p.c.received_at, p.c.id)}, q,
                                    plain), "PaymentNotice")


def claims(uow: UnitOfWork, who: Caller, q: dict[str, Any]) -> dict[str, Any]:
    """Claims without their 837P document (one claim's read shows it)."""
    c = m.claims
    columns = [col for col in c.c if col.name != "document"]
    query = _books(select(*columns), c, c.c.updated_at, who, q)
    for name in ("status", "payer"):
        if q[name]:
            query = query.where(c.c[name] == q[name])
    sorts = {"updated": (c.c.updated_at, c.c.id), "created": (c.c.created_at, c.c.id)}
    return _recorded(uow, who, page(uow.session.connection(), query, sorts, q, plain), "Claim")


def accounts(uow: UnitOfWork, who: Caller, q: dict[str, Any]) -> dict[str, Any]:
    acct, clients = m.accounts, m.clients
    query = select(acct, clients.c.home_site_id).join(clients, clients.c.id == acct.c.client_id).where(
        clients.c.home_site_id.in_(sorted(who.sites)))
    if q["site_id"]:
        query = query.where(clients.c.home_site_id == q["site_id"])
    if q["payer"]:
        query = query.where(acct.c.payer == q["payer"])
    return _recorded(uow, who, page(uow.session.connection(), query, {"client": (acct.c.client_id,)}, q, plain),
                     "Account")


def fees(uow: UnitOfWork, who: Caller, q: dict[str, Any]) -> dict[str, Any]:
    f = m.fee_schedules
    query = select(f).where(f.c.site_id.in_(sorted(who.sites)))
    for name in ("site_id", "payer"):
        if q[name]:
            query = query.where(f.c[name] == q[name])
    if q["on"]:
        query = query.where(f.c.effective_from <= q["on"], or_(f.c.effective_until.is_(None),
                                                                 f.c.effective_until >= q["on"]))
    sorts = {"code": (f.c.code, f.c.payer, f.c.effective_from, f.c.id)}
    return page(uow.session.connection(), query, sorts, q, plain)


def _books(query, table, when, who: Caller, q: dict[str, Any]):
    """Kept to clients whose home site is the caller's, then to the filters."""
    clients = m.clients
    query = query.join(clients, clients.c.id == table.c.client_id).where(
        clients.c.home_site_id.in_(sorted(who.sites))).add_columns(clients.c.home_site_id)
    if q["client_id"]:
        query = query.where(table.c.client_id == q["client_id"])
    if q["site_id"]:
        query = query.where(clients.c.home_site_id == q["site_id"])
    if q["since"]:
        query = query.where(when >= q["since"])
    if q["until"]:
        query = query.where(when < q["until"])
    return query


def _recorded(uow: UnitOfWork, who: Caller, found: dict[str, Any], resource_type: str) -> dict[str, Any]:
    with uow.batched():
        for item in found["items"]:
            record_access(uow, who, action=Action.READ, resource_type=resource_type,
                          resource_id=str(item.get("id") or item["client_id"]), client_id=item["client_id"],
                          site_id=item["home_site_id"])
    return found
