"""Whether a caller may do a piece of billing work, for a client or a site: the
role's task (``domain/policy.py``), then the scope -- the client's home site as
records registered it, or the site whose prices change. A refusal is committed
to the trail with its real reason; about a client, the caller is told only that
there is nothing they may see (as records tells them)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from confide_access import AccessDenied, Caller, enforce, refuse
from confide_messaging import UnitOfWork

from confide_billing import store
from confide_billing.domain import policy as p

UnitsOfWork = Callable[[], AbstractContextManager[UnitOfWork]]


def permitted(unit_of_work: UnitsOfWork, who: Caller, task: p.Task, client_id: str | None = None,
              site_id: str | None = None) -> Caller:
    decision = role = p.may(who, task)
    if decision.allowed and client_id is not None:
        with unit_of_work() as uow:
            home = store.home_site(uow.session.connection(), client_id)
        decision = p.client_in_scope(who, client_id, home)
        site_id = home
    elif decision.allowed and site_id is not None:
        decision = p.site_in_scope(who, site_id)
    try:
        return enforce(unit_of_work, who, decision, action=p.action_of(task), resource_type="Account",
                       resource_id=client_id or site_id or str(task), client_id=client_id, site_id=site_id)
    except AccessDenied:
        if client_id is not None and role.allowed:
            raise AccessDenied(p.unseen(client_id)) from None
        raise


def permitted_on(unit_of_work: UnitsOfWork, who: Caller, task: p.Task, charge_id=None, claim_id=None) -> Caller:
    """As :func:`permitted`, for the client of a charge or a claim. One that does
    not exist and one of a client the caller may not see are answered alike, and
    the answer names neither the client nor which it was (the trail has both)."""
    kind, key = ("charge", charge_id) if charge_id is not None else ("claim", claim_id)
    with unit_of_work() as uow:
        conn = uow.session.connection()
        row = store.charge(conn, charge_id) if charge_id is not None else store.claim(conn, claim_id)
    role = p.may(who, task)
    try:
        if row is None and role.allowed:
            enforce(unit_of_work, who, refuse(f"no {kind} {key}"), action=p.action_of(task),
                    resource_type="Account", resource_id=str(key))
        return permitted(unit_of_work, who, task, row.client_id if row is not None else None)
    except AccessDenied:
        if not role.allowed:
            raise
        raise AccessDenied(f"no {kind} {key}, or none of a client you may see") from None
