from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import NoReturn

from confide_events import Event
from confide_messaging import UnitOfWork

from confide_access.events import Action, Caller, Outcome, access_event_type


class AccessDenied(Exception):
    """The caller may not do this. The denial is already in the audit trail."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def record_access(
    uow: UnitOfWork,
    caller: Caller,
    *,
    action: Action | str,
    resource_type: str,
    resource_id: str | None = None,
    client_id: str | None = None,
    site_id: str | None = None,
    outcome: Outcome | str = Outcome.ALLOWED,
    reason: str | None = None,
    recipient: str | None = None,
) -> Event:
    """Write one access event to the outbox in ``uow``'s transaction."""
    return uow.emit(
        access_event_type(uow.producer),
        {
            "action": str(Action(action)),
            "outcome": str(Outcome(outcome)),
            "resource_type": resource_type,
            "resource_id": resource_id,
            "client_id": client_id,
            "purpose": str(caller.purpose),
            "reason": reason,
            "break_glass": caller.breaking_glass,
            "break_glass_reason": caller.break_glass_reason,
            "source_address": caller.source_address,
            "user_agent": caller.user_agent,
            "recipient": recipient,
        },
        actor=caller.actor,
        site_id=site_id,
    )


def deny(
    unit_of_work: Callable[[], AbstractContextManager[UnitOfWork]],
    caller: Caller,
    *,
    action: Action | str,
    resource_type: str,
    reason: str,
    resource_id: str | None = None,
    client_id: str | None = None,
    site_id: str | None = None,
) -> NoReturn:
    """Commit a denied-access event in its own transaction, then raise
    :class:`AccessDenied`. The caller's own transaction (if any) is not used, so
    the denial is recorded even though the work is not done."""
    with unit_of_work() as uow:
        record_access(
            uow, caller, action=action, resource_type=resource_type, resource_id=resource_id,
            client_id=client_id, site_id=site_id, outcome=Outcome.DENIED, reason=reason,
        )
    raise AccessDenied(reason)


class InvalidRequest(Exception):
    """Bad input to an RPC: ``errors`` maps each bad field to what is wrong."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in sorted(errors.items())))


def load(schema, data, **kwargs):
    """``schema.load(data)``, raising :class:`InvalidRequest` that names each bad field."""
    from confide_events.errors import flatten_errors
    from marshmallow import ValidationError

    try:
        return schema.load(data if data is not None else {}, **kwargs)
    except ValidationError as exc:
        raise InvalidRequest(flatten_errors(exc.messages)) from None
