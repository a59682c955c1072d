"""What a service's policy answers (``domain/policy.py`` in every service), and
how an entrypoint acts on it: a refusal is recorded in the audit trail, then
raised as :class:`~confide_contracts.errors.AccessDenied`.

Policies are pure functions of the caller and the facts; they return a
:class:`Decision` and never touch a database, so each service's whole access
matrix is testable in microseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from confide_messaging import UnitOfWork

from confide_access.events import Action, Caller
from confide_access.recorder import deny


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


def allow(reason: str = "") -> Decision:
    return Decision(True, reason)


def refuse(reason: str) -> Decision:
    return Decision(False, reason)


def enforce(
    unit_of_work: Callable[[], AbstractContextManager[UnitOfWork]],
    caller: Caller,
    decision: Decision,
    *,
    action: Action | str,
    resource_type: str,
    resource_id: str | None = None,
    client_id: str | None = None,
    site_id: str | None = None,
) -> Caller:
    """``caller`` when ``decision`` allows; otherwise the denial is committed in a
    transaction of its own and :class:`AccessDenied` raised."""
    if not decision.allowed:
        deny(unit_of_work, caller, action=action, resource_type=resource_type, resource_id=resource_id,
             client_id=client_id, site_id=site_id, reason=decision.reason)
    return caller
