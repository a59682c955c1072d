"""The broker topology, declared up front (DESIGN.md rule 5).

- ``confide.events``: durable topic exchange every service publishes to, routing
  key = event type. Its alternate exchange catches anything no queue is bound
  for, so an event published before its consumer ever started is parked in
  ``confide.unrouted`` instead of vanishing.
- Per handler ``<service>.<method>``: a durable quorum queue (optionally single
  active consumer), one classic queue per retry level whose TTL dead-letters
  the message back to the handler's queue (backoff without a plugin), and
  ``<queue>.dead``: the dead-letter queue operators list and replay.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kombu import Connection, Exchange, Queue, binding

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
unrouted_queue = Queue(
    UNROUTED_QUEUE,
    exchange=unrouted_exchange,
    routing_key="",
    durable=True,
    queue_arguments={"x-queue-type": "quorum"},
)


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

    def main(self) -> Queue:
        arguments = {"x-queue-type": "quorum", **self.extra_arguments}
        if self.single_active_consumer:
            arguments["x-single-active-consumer"] = True
        return Queue(
            self.name,
            bindings=[binding(events_exchange, routing_key=t) for t in self.event_types],
            durable=True,
            queue_arguments=arguments,
        )

    def retries(self) -> list[Queue]:
        return [
            Queue(
                self.retry_name(level),
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
            self.dead_letter_name, durable=True, queue_arguments={"x-queue-type": "quorum"}
        )

    def all(self) -> list[Queue]:
        return [self.main(), *self.retries(), self.dead_letters()]


def declare(connection: Connection, handlers: Iterable[HandlerQueues] = ()) -> None:
    """Declare the exchanges, the unrouted queue and every handler's queues."""
    channel = connection.channel()
    try:
        unrouted_exchange.declare(channel=channel)
        unrouted_queue.bind(channel).declare()
        events_exchange.declare(channel=channel)
        for handler in handlers:
            for queue in handler.all():
                queue.bind(channel).declare()
    finally:
        channel.close()
