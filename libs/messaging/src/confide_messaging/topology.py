"""The broker topology, declared up front (DESIGN.md rule 5).

- ``confide.events``: durable topic exchange every service publishes to, routing
  key = event type. Its alternate exchange catches anything no queue is bound
  for, so an event published before its consumer ever started is parked in
  ``confide.unrouted`` instead of vanishing.
- Per handler ``<service>.<method>``: a durable quorum queue (optionally single
  active consumer), one classic queue per retry level whose TTL dead-letters
  the message back to the handler's queue (backoff without a plugin), and
  ``<queue>.dead``: the dead-letter queue operators list and replay. A failed
  message reaches its retry or dead-letter queue through the handler's own
  direct exchange ``<queue>.requeue``: no service writes to the default
  exchange, which would let it put a message into any queue by name.

Where the broker's definitions made the shared exchanges (``make run``,
compose, the cluster: ``BROKER_EXCHANGES=provisioned``), a service only checks
that they are there (a passive declare needs no right): its login may not
configure -- so may not delete -- ``nameko-rpc``, ``confide.events`` or
``confide.unrouted``. Elsewhere (the tests' own vhosts) it declares them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kombu import Connection, Exchange, Queue, binding
from nameko import config

EVENTS_EXCHANGE = "confide.events"
UNROUTED_EXCHANGE = "confide.unrouted"
UNROUTED_QUEUE = "confide.unrouted"

DEFAULT_RETRY_DELAYS_MS = (1_000, 5_000, 30_000, 120_000)

unrouted_exchange = Exchange(UNROUTED_EXCHANGE, type="fanout", durable=True)
events_exchange = Exchange(
    EVENTS_EXCHANGE,
    type="topic",
    durable=True,
    arguments={"alternate-exchange": UNROUTED_EXCHANGE},
)
events_exchange_provisioned = Exchange(  # (bound to, never declared, by a service)
    EVENTS_EXCHANGE, type="topic", durable=True, arguments={"alternate-exchange": UNROUTED_EXCHANGE}, passive=True,
)
unrouted_queue = Queue(
    UNROUTED_QUEUE,
    exchange=unrouted_exchange,
    routing_key="",
    durable=True,
    queue_arguments={"x-queue-type": "quorum"},
)


def exchanges_provisioned() -> bool:
    """Whether the shared exchanges are the broker definitions' (``BROKER_EXCHANGES``)."""
    return config.get("BROKER_EXCHANGES", "declare") == "provisioned"


@dataclass(frozen=True)
class HandlerQueues:
    """The queues that belong to one event handler."""

    name: str
    event_types: Sequence[str]
    retry_delays_ms: Sequence[int] = DEFAULT_RETRY_DELAYS_MS
    single_active_consumer: bool = False
    extra_arguments: dict = field(default_factory=dict)

    @property
    def dead_letter_name(self) -> str:
        return f"{self.name}.dead"

    def retry_name(self, level: int) -> str:
        return f"{self.name}.retry.{level}"

    @property
    def max_attempts(self) -> int:
        return len(self.retry_delays_ms) + 1

    @property
    def requeue_name(self) -> str:
        return f"{self.name}.requeue"

    def requeue(self) -> Exchange:
        """The handler's own way to its retry and dead-letter queues (by their names)."""
        return Exchange(self.requeue_name, type="direct", durable=True)

    def main(self) -> Queue:
        arguments = {"x-queue-type": "quorum", **self.extra_arguments}
        if self.single_active_consumer:
            arguments["x-single-active-consumer"] = True
        events = events_exchange_provisioned if exchanges_provisioned() else events_exchange
        return Queue(
            self.name,
            bindings=[binding(events, routing_key=t) for t in self.event_types],
            durable=True,
            queue_arguments=arguments,
        )

    def retries(self) -> list[Queue]:
        return [
            Queue(
                self.retry_name(level),
                exchange=self.requeue(),
                routing_key=self.retry_name(level),
                durable=True,
                queue_arguments={
                    "x-message-ttl": int(delay),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": self.name,
                },
            )
            for level, delay in enumerate(self.retry_delays_ms, start=1)
        ]

    def dead_letters(self) -> Queue:
        return Queue(
            self.dead_letter_name, exchange=self.requeue(), routing_key=self.dead_letter_name, durable=True,
            queue_arguments={"x-queue-type": "quorum"},
        )

    def all(self) -> list[Queue]:
        return [self.main(), *self.retries(), self.dead_letters()]


def declare(connection: Connection, handlers: Iterable[HandlerQueues] = (), provisioned: bool | None = None) -> None:
    """Declare the exchanges (or, provisioned, check them), the unrouted queue and every handler's queues."""
    channel = connection.channel()
    try:
        if exchanges_provisioned() if provisioned is None else provisioned:
            for exchange in (unrouted_exchange, events_exchange):
                channel.exchange_declare(exchange.name, exchange.type, passive=True)
        else:
            unrouted_exchange.declare(channel=channel)
            unrouted_queue.bind(channel).declare()
            events_exchange.declare(channel=channel)
        for handler in handlers:
            for queue in handler.all():
                queue.bind(channel).declare()
    finally:
        channel.close()
