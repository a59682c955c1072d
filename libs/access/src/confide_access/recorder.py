from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import NoReturn

from confide_contracts.errors import AccessDenied, InvalidRequest
from confide_events import Event
from confide_messaging import UnitOfWork

from confide_access.events import Action, Caller, Outcome, access_event_type

# what the trail keeps of each free-text fact (the audit log's columns, and the
# event schema's limits): a longer value -- an id the caller made up, a reason
# quoting it -- is recorded cut to this, never refused, so the access is in the
# trail and no event can stall a chain
KEPT = {"resource_id": 200, "client_id": 200, "reason": 500, "recipient": 300, "site_id": 64}


def clip(value: str | None, limit: int) -> str | None:
    """``value``, or its first characters and how long it was."""
    if value is None or len(value) <= limit:
        return value
    tail = f"... ({len(value)} characters)"
    return value[: limit - len(tail)] + tail


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
            "resource_id": clip(resource_id, KEPT["resource_id"]),
            "client_id": clip(client_id, KEPT["client_id"]),
            "purpose": str(caller.purpose),
            "reason": clip(reason, KEPT["reason"]),
            "break_glass": caller.breaking_glass,
            "break_glass_reason": caller.break_glass_reason,
            "source_address": caller.source_address,
            "user_agent": caller.user_agent,
            "recipient": clip(recipient, KEPT["recipient"]),
        },
        actor=caller.actor,
        site_id=clip(site_id, KEPT["site_id"]),
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


def load(schema, data, **kwargs):
    """``schema.load(data)``, raising :class:`InvalidRequest` that names each bad
    field -- also for text no database can keep (NUL, lone surrogates)."""
    from confide_events.errors import flatten_errors
    from marshmallow import ValidationError

    unstorable = dict(_unstorable(data))
    if unstorable:
        raise InvalidRequest(unstorable)
    try:
        return schema.load(data if data is not None else {}, **kwargs)
    except ValidationError as exc:
        raise InvalidRequest(flatten_errors(exc.messages)) from None


def _unstorable(value, path: str = ""):
    """(field, [why]) for each string in ``value`` that is not storable text."""
    if isinstance(value, str):
        if "\x00" in value:
            yield path or "_schema", ["must not contain NUL characters"]
        else:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                yield path or "_schema", ["is not valid Unicode text"]
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _unstorable(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable(item, f"{path}.{index}" if path else str(index))


def parse_id(value, field: str) -> uuid.UUID:
    """``value`` as a UUID, or :class:`InvalidRequest` naming ``field``."""
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise InvalidRequest({field: [f"{value!r} is not a valid id"]}) from None
