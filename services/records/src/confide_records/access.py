"""The one way into a client's record.

:func:`through_policy` reads the facts relating caller and client, lets the
policy decide, does the work and writes the access event to the outbox -- all in
one transaction that commits before anything is returned (DESIGN.md "audit
first"). A refusal is committed as a denied access event of its own, then
raised. Clinical text is decrypted only inside that transaction, after the
decision.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from confide_access import AccessDenied, Action, Caller, deny, load, record_access
from confide_contracts.rpc.records import ClientIdSchema, IdSchema
from confide_messaging import UnitOfWork

from confide_records import store
from confide_records.domain import policy as p
from confide_records.domain.policy import Kind

Decide = Callable[[Caller, p.Relation], p.Decision]


class Refused(Exception):
    """Raised by a piece of work that refuses once it has seen the resource."""

    def __init__(self, reason: str, told: str | None = None, unknown: bool = False) -> None:
        self.reason = reason  # for the trail
        self.told = told  # for the caller, if not the same
        self.unknown = unknown
        super().__init__(reason)


@dataclass
class Access:
    """What a piece of work inside :func:`through_policy` gets."""

    uow: UnitOfWork
    caller: Caller  # as the access event records them (break-the-glass applied)
    relations: dict[str, p.Relation]
    resource_id: str | None = None
    recipient: str | None = None
    events_for: list[str] | None = None  # clients to record the access for (default: all)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def conn(self):
        return self.uow.session.connection()


Work = Callable[[Access], Any]


def client_id_of(value) -> Any:
    return load(ClientIdSchema(), {"client_id": value})["client_id"]


def id_of(value) -> Any:
    return load(IdSchema(), {"id": value})["id"]


def decider(kind: Kind | None, write: bool) -> Decide:
    if write:
        return lambda c, r: p.may_write(c, kind, r)
    return lambda c, r: p.may_read(c, kind, r)


def unseen(client_id: str) -> str:
    return f"no client {client_id}, or nothing of theirs, that you may see"


def through_policy(
    unit_of_work: Callable[[], AbstractContextManager[UnitOfWork]],
    who: Caller,
    client_ids: list,
    *,
    action: Action,
    resource_type: str,
    work: Work,
    decide: Decide,
    resource_id: str | None = None,
) -> Any:
    """Decide, do ``work`` and record the access, in one transaction.

    ``decide`` runs for each client; the first refusal is recorded and raised.
    ``work`` may itself refuse (:class:`Refused`) after looking at the resource.
    An unknown client and every refusal are answered alike -- ``AccessDenied("no
    client ..., or nothing of theirs, that you may see")`` -- with the real reason
    in the trail only: a role's refusal, reached only for a client that exists,
    would otherwise tell that it does.
    """
    keys = [str(c) for c in client_ids]
    try:
        with unit_of_work() as uow:
            conn = uow.session.connection()
            relations: dict[str, p.Relation] = {}
            for key in keys:
                relation = store.relation(conn, who, key)
                if relation is None:
                    raise Refused(f"no client {key}", told=unseen(key), unknown=True)
                relations[key] = relation
            effective = who
            decisions: dict[str, p.Decision] = {}
            for key, relation in relations.items():
                decision = decisions[key] = decide(who, relation)
                if not decision.allowed:
                    raise Refused(decision.reason, told=unseen(key))
                effective = decision.effective(effective, relation)
            access = Access(uow, effective, relations, resource_id=resource_id)
            result = work(access)
            with uow.batched():
                for key in access.events_for if access.events_for is not None else keys:
                    record_access(
                        uow, access.caller, action=action, resource_type=resource_type,
                        resource_id=access.resource_id, client_id=key,
                        site_id=relations[key].home_site if key in relations else None,
                        recipient=access.recipient, reason=decisions[key].recorded if key in decisions else None,
                    )
            return result
    except Refused as exc:
        refusal = exc
    try:
        deny(unit_of_work, who, action=action, resource_type=resource_type, resource_id=resource_id,
             client_id=None if refusal.unknown or not keys else keys[0], reason=refusal.reason)
    except AccessDenied:
        raise AccessDenied(refusal.told or refusal.reason) from None
