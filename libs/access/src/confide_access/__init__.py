"""Access events (DESIGN.md "Access events", "audit first").

Every read, create, update, delete, sign, export, print, disclosure and denied
attempt on client data is written to the service's outbox in the same
transaction as the work -- and for a read, committed before the data is
returned. A denial is committed in a transaction of its own, then raised.
"""

from confide_access.decision import Decision, allow, enforce, refuse
from confide_access.entrypoint import open_rpc, rpc
from confide_access.events import (
    ACCESS_EVENT_TYPE,
    Action,
    Caller,
    CallerSchema,
    Outcome,
    Purpose,
    access_event_type,
)
from confide_access.recorder import AccessDenied, InvalidRequest, deny, load, parse_id, record_access

__all__ = [
    "ACCESS_EVENT_TYPE",
    "AccessDenied",
    "Action",
    "Caller",
    "CallerSchema",
    "Decision",
    "InvalidRequest",
    "Outcome",
    "Purpose",
    "access_event_type",
    "allow",
    "deny",
    "enforce",
    "load",
    "open_rpc",
    "parse_id",
    "record_access",
    "refuse",
    "rpc",
]
