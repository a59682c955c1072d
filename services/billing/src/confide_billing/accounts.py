"""Clients' accounts: who pays, and the statement of what was charged, invoiced
and paid. Each is an access-recorded read or change of the client's billing
data."""

from __future__ import annotations

from typing import Any

from confide_access import Action, Caller, record_access
from confide_contracts.errors import NotFound
from confide_messaging import UnitOfWork
from confide_persistence import plain

from confide_billing import models as m
from confide_billing import store


def open_account(uow: UnitOfWork, who: Caller, data: dict[str, Any]) -> None:
    store.upsert(uow.session.connection(), m.accounts, "client_id", data)
    record_access(uow, who, action=Action.UPDATE, resource_type="Account", resource_id=data["client_id"],
                  client_id=data["client_id"])


def statement(uow: UnitOfWork, who: Caller, client_id: str) -> dict[str, Any]:
    """The client's charges, invoices (with what is still owed), payments and balance."""
    conn = uow.session.connection()
    acct = store.account(conn, client_id)
    if acct is None:
        raise NotFound(f"no billing account for {client_id}")
    owed = {str(iid): left for iid, left, _ in store.open_invoices(conn, client_id)}
    rows = store.statement_rows(conn, client_id)
    result = {
        "account": plain(acct),
        "charges": rows["charges"],
        "invoices": [{**r, "outstanding_minor": owed.get(r["id"], 0)} for r in rows["invoices"]],
        "payments": rows["payments"],
        "unbilled": rows["unbilled"],
        "balance_minor": store.balance(conn, client_id),
    }
    record_access(uow, who, action=Action.READ, resource_type="Account", resource_id=client_id, client_id=client_id)
    return result
