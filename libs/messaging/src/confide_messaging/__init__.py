"""Reliable messaging: transactional outbox and relay, idempotent inbox, event
handlers with retries and a dead-letter queue, and the broker topology."""

from confide_messaging import broker  # noqa: F401 - nameko's RPC exchange as the topology says
from confide_messaging.consumer import EventHandler, handles
from confide_messaging.extension import OutboxRelayRunner
from confide_messaging.relay import OutboxRelay
from confide_messaging.tables import add_messaging_tables
from confide_messaging.uow import AlreadyHandled, UnitOfWork, UnitOfWorkProvider

__all__ = [
    "AlreadyHandled",
    "EventHandler",
    "OutboxRelay",
    "OutboxRelayRunner",
    "UnitOfWork",
    "UnitOfWorkProvider",
    "add_messaging_tables",
    "handles",
]
