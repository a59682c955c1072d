"""``@handles(...)``: a nameko entrypoint for events that never drops a message.

nameko's own ``@event_handler`` acknowledges and drops a message whose handler
raises. Here a failing handler's message is republished (with publisher
confirms) to the next retry queue, whose TTL sends it back after a backoff;
after the last retry it goes to ``<queue>.dead`` with the error. The original is
acknowledged only once its successor is safely with the broker. A message that
is not a valid event goes straight to the dead-letter queue: retrying it cannot
help.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial

from confide_events import EventError, EventRegistry
from confide_events import registry as default_registry
from confide_telemetry.scrub import describe
from nameko import config
from nameko.amqp.publish import Publisher
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer

from confide_messaging import broker, topology
from confide_messaging.provenance import SENT_BY_HEADER, ForgedProducer, check_producer, first_sender
from confide_messaging.uow import AlreadyHandled

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-confide-attempt"
ERROR_HEADER = "x-confide-error"
FAILED_AT_HEADER = "x-confide-failed-at"
ORIGIN_HEADER = "x-confide-origin-queue"


def _describe(exc: BaseException) -> str:
    return dead_letter_reason(exc)


class UndecodableBody(ValueError):
    """A message body that is not JSON (its content type and the decoder's error class)."""


def dead_letter_reason(exc: BaseException) -> str:
    """Why a message was parked, as its dead letter carries it: the words of an
    error we raise about an event's shape or sender (they name fields, never
    values); of anything else -- a database error quotes the row it refused --
    the type, SQLSTATE and constraint only."""
    if isinstance(exc, EventError | ForgedProducer | UndecodableBody):
        return f"{type(exc).__name__}: {exc}"[:500]
    return describe(exc)


class EventHandler(Consumer):
    def __init__(
        self,
        *event_types: str,
        retry_delays_ms=None,
        single_active_consumer: bool = False,
        registry: EventRegistry | None = None,
        expected_exceptions=(),
        **consumer_options,
    ) -> None:
        if not event_types:
            raise ValueError("@handles needs at least one event type")
        self.event_types = event_types
        self.retry_delays_ms = retry_delays_ms
        self.single_active_consumer = single_active_consumer
        self.registry = registry or default_registry
        super().__init__(
            queue=None,
            requeue_on_error=False,
            expected_exceptions=expected_exceptions,
            **consumer_options,
        )

    def setup(self) -> None:
        delays = self.retry_delays_ms
        if delays is None:
            delays = config.get("EVENT_RETRY_DELAYS_MS", topology.DEFAULT_RETRY_DELAYS_MS)
        name = f"{self.container.service_name}.{self.method_name}"
        self.queues = topology.HandlerQueues(
            name=name,
            event_types=self.event_types,
            retry_delays_ms=tuple(delays),
            single_active_consumer=self.single_active_consumer,
        )
        self.queue = self.queues.main()
        with broker.connection(self.amqp_uri) as connection:
            topology.declare(connection, [self.queues])
        self.republisher = Publisher(self.amqp_uri, use_confirms=True, delivery_mode=2,
                                     ssl=broker.process_ssl(self.amqp_uri))
        self.own_user = broker.connection(self.amqp_uri).userid  # (retries come back published by us)
        # a body kombu cannot decode would otherwise raise inside the consumer loop
        self.consumer_options["on_decode_error"] = self._undecodable
        super().setup()

    def _undecodable(self, message, exc) -> None:
        log.error("dead-lettering undecodable message on %s: %s", self.queues.name, exc)
        self._forward(message, self.queues.dead_letter_name, dict(message.headers or {}),
                      UndecodableBody(f"undecodable body ({message.content_type}): {type(exc).__name__}"))

    # --- receiving -----------------------------------------------------------
    def handle_message(self, body, message) -> None:
        headers = dict(message.headers or {})
        try:
            event = self.registry.parse(body)
            check_producer(event.producer, message, self.own_user)
        except (EventError, ForgedProducer) as exc:
            log.error("dead-lettering invalid message on %s: %s", self.queues.name, exc)
            self._forward(message, self.queues.dead_letter_name, headers, exc)
            return
        context_data = {}
        if headers.get("traceparent"):
            context_data["traceparent"] = headers["traceparent"]
        handle_result = partial(self.handle_result, message)

        def spawn_worker():
            try:
                self.container.spawn_worker(
                    self, (event,), {}, context_data=context_data, handle_result=handle_result
                )
            except ContainerBeingKilled:
                self.consumer.requeue_message(message)

        self.container.spawn_managed_thread(
            spawn_worker, identifier=f"EventHandler.wait_for_worker_pool[{self.queues.name}]"
        )

    # --- after the handler ---------------------------------------------------
    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        if exc_info is not None and isinstance(exc_info[1], AlreadyHandled):
            log.info("duplicate delivery acknowledged: %s", exc_info[1])
            self.consumer.ack_message(message)
            return None, None
        if exc_info is None:
            self.consumer.ack_message(message)
            return result, exc_info
        headers = dict(message.headers or {})
        attempt = int(headers.get(ATTEMPT_HEADER, 1))
        if attempt < self.queues.max_attempts:
            log.warning(
                "handler %s failed (attempt %d of %d), retrying: %s",
                self.queues.name, attempt, self.queues.max_attempts, _describe(exc_info[1]),
            )
            headers[ATTEMPT_HEADER] = attempt + 1
            self._forward(message, self.queues.retry_name(attempt), headers, exc_info[1])
        else:
            log.error(
                "handler %s failed %d times, dead-lettering: %s",
                self.queues.name, attempt, _describe(exc_info[1]),
            )
            self._forward(message, self.queues.dead_letter_name, headers, exc_info[1])
        return result, exc_info

    def _forward(self, message, queue: str, headers: dict, exc: BaseException) -> None:
        """Republish ``message`` to ``queue`` (confirmed), then acknowledge it.
        If the broker cannot take it, requeue the original instead."""
        headers = {k: v for k, v in headers.items() if k != "x-death"}
        headers[ERROR_HEADER] = _describe(exc)
        headers[FAILED_AT_HEADER] = datetime.now(UTC).isoformat()
        headers[ORIGIN_HEADER] = self.queues.name
        headers[SENT_BY_HEADER] = first_sender(message, self.own_user)  # for its return from retry or replay
        try:
            self.republisher.publish(
                message.body,
                exchange=self.queues.requeue_name,
                routing_key=queue,
                headers=headers,
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                message_id=message.properties.get("message_id"),
                type=message.properties.get("type"),
                user_id=self.own_user,
            )
        except Exception:
            log.exception("could not forward message to %s; requeueing", queue)
            self.consumer.requeue_message(message)
            return
        self.consumer.ack_message(message)


handles = EventHandler.decorator
