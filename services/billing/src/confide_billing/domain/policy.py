"""Who may do what in billing (DESIGN.md, Security, minimum necessary): a pure
function of the caller's role, and of where the client or the site is.

Billing staff -- billers, front desk, admins -- read a client's account and take
payments; only billers and admins correct charges, issue invoices, refund and
claim from insurers; price lists, the sliding scale, site fees and the billing
provider are an admin's. Clinicians, clients and compliance officers have no
business in the books (a client's statement reaches them through the clinic).
Staff see the books of their own sites' clients (the client's home site, as
records registered it) and set prices for their own sites only.
"""

from __future__ import annotations

from enum import StrEnum

from confide_access import Action, Caller, Decision, allow, refuse


class Task(StrEnum):
    SET_FEES = "set fees"
    SET_SCALE = "set the sliding scale"
    SET_SITE_FEES = "set site fees"
    SET_PROVIDER = "set the billing provider"
    CHANGE_ACCOUNTS = "change billing accounts"
    READ = "read billing data"
    RECORD_PAYMENTS = "record payments"
    REVERSE = "reverse charges"
    INVOICE = "issue invoices"
    REFUND = "refund"
    CLAIM = "create claims"
    TRACK_CLAIMS = "track claims"


BILLING_STAFF = frozenset({"biller", "front_desk", "admin"})
BILLERS = frozenset({"biller", "admin"})
ADMINS = frozenset({"admin"})

WHO_MAY = {
    Task.SET_FEES: ADMINS, Task.SET_SCALE: ADMINS, Task.SET_SITE_FEES: ADMINS, Task.SET_PROVIDER: ADMINS,
    Task.CHANGE_ACCOUNTS: BILLING_STAFF, Task.READ: BILLING_STAFF, Task.RECORD_PAYMENTS: BILLING_STAFF,
    Task.REVERSE: BILLERS, Task.INVOICE: BILLERS, Task.REFUND: BILLERS, Task.CLAIM: BILLERS,
    Task.TRACK_CLAIMS: BILLERS,
}


def may(who: Caller, task: Task) -> Decision:
    if who.role not in WHO_MAY[task]:
        return refuse(f"role {who.role} may not {task}")
    return allow(f"{who.role} may {task}")


def unseen(client_id: str) -> str:
    """What a caller is told of a client they may not see, or that does not exist:
    the same words, so that asking does not tell which (as records answers)."""
    return f"no client {client_id}, or nothing of theirs, that you may see"


def client_in_scope(who: Caller, client_id: str, home_site: str | None) -> Decision:
    if home_site is None:
        return refuse(f"no client {client_id} registered with billing")
    if home_site not in who.sites:
        return refuse(f"client's home site {home_site} is outside the caller's sites")
    return allow(f"{who.role} at the client's site")


def site_in_scope(who: Caller, site_id: str) -> Decision:
    if site_id not in who.sites:
        return refuse(f"site {site_id} is outside the caller's sites")
    return allow(f"{who.role} at the site")


def may_see_own_books(who: Caller, record: str | None) -> Decision:
    """A client sees their own statement: the record their login is linked to."""
    if who.role != "client":
        return refuse(f"role {who.role} reads statements through the clinic's operations")
    if record is None:
        return refuse("no client record is linked to this login: redeem the clinic's invitation first")
    return allow("own record")


def action_of(task: Task) -> Action:
    """How a refusal is recorded: reading the books, or changing them."""
    return Action.READ if task == Task.READ else Action.UPDATE
