"""nameko's RPC, without what each call paid for nothing (``make bench NAME=rpc``).

Every guarantee nameko's RPC gives is kept: requests are published with
confirms and ``mandatory`` (a call to a service nobody serves fails with
``UnknownService`` instead of waiting forever), replies with confirms (a reply
the broker did not take is logged as lost, below). What goes:

- **A producer taken from a pool, and one confirm read, for every reply and
  every request.** Half of a busy service's time, and as much of its caller's;
  a service's replies, and a client's requests, now share one confirmed
  channel (:class:`Confirmed`).
- **An ack written per reply** by the caller; the replies read together are
  acknowledged together (:class:`ReplyListener`).
- **The reply queue declared again before every request.** nameko passes it to
  each publish, and kombu never remembers a queue with ``x-expires``, so every
  call cost a ``queue.declare`` round trip to the broker. The reply listener's
  consumer declares its queue when it starts and again on every reconnect;
  that is where it belongs -- and so a call waits, once, until that consumer is
  ready: a request made before it (a gateway restarted under load, its web
  server up first) left a reply queue that did not exist yet, and nameko took
  the pending reply for a lost one and killed the container (``make faults``,
  "kill -9 gateway").
- **A request worked on twice.** nameko acknowledged a request only after its
  reply was sent, so a service that died or lost the broker while working on
  it had it delivered again and did it again: a second addendum, a second
  payment, a second access in the trail for one answer (``make faults``,
  "kill -9 gateway" then "broker cut off"). A request is acknowledged as its
  worker starts: it is worked on at most once, and one whose service dies
  meanwhile is answered by the caller's timeout (a 504 that says to look
  before retrying; a retry with the same Idempotency-Key is refused). And a
  request the caller's publish sent again -- kombu retries a publish whose
  connection died before the broker confirmed it, though the broker may have
  routed it already -- is known by its correlation id and dropped (a service
  process remembers the last 100,000; replicas do not share them).
- **A service killed by a reply it could not send.** When the broker was out
  of reach as a reply was due, nameko's worker raised and the container died
  with it, leaving a process that answered nothing until someone restarted it
  (``make faults``, "broker cut off"). The reply is logged as lost in one line;
  the caller's own timeout answers it.
- **A 500 for a dependency out of reach.** A worker that failed because the
  database, Vault or the broker could not be reached answers
  ``Unavailable`` (503, ``Retry-After``), logged as one line
  (``confide_messaging.outages``).
- **Persistent request and reply messages.** A reply queue is not durable, and
  a request outlives a broker restart only to be answered to a caller that is
  no longer waiting (its reply queue is gone with the restart): writing either
  to the broker's disk bought nothing, and a persistent message's confirm
  waits for that write.

Every entrypoint of a service must take its messages from one consumer of the
service's queue: the services use :data:`rpc` here (through ``confide_access``)
for every entrypoint, never nameko's own beside it.
"""

from __future__ import annotations

import logging
import sys
from collections import OrderedDict
from functools import partial

import amqp
import eventlet
import kombu.serialization
from amqp.exceptions import AMQPError, MessageNacked
from eventlet.event import Event
from eventlet.semaphore import Semaphore
from kombu.exceptions import EncodeError, OperationalError
from nameko import config
from nameko import rpc as nameko_rpc
from nameko.amqp.publish import UndeliverableMessage
from nameko.constants import NON_PERSISTENT
from nameko.exceptions import ContainerBeingKilled, MalformedRequest, UnserializableValueError, serialize
from nameko.messaging import decode_from_headers

from confide_messaging import broker
from confide_messaging.outages import quiet_outages, unavailable

log = logging.getLogger(__name__)
quiet_outages()

CONFIRM_WITHIN = 10.0  # seconds a message waits for the broker's confirm


def transient(encoded: tuple[str, str, bytes], **properties) -> amqp.Message:
    """A request or reply, ``encoded`` (content type, encoding, body) by kombu, not persisted."""
    content_type, encoding, body = encoded
    return amqp.Message(body, content_type=content_type, content_encoding=encoding, delivery_mode=NON_PERSISTENT,
                        **properties)


class Confirmed:
    """One channel of a service process's own in confirm mode, for many green
    threads at once: each writes its message (one at a time) and waits for the
    broker's confirm, read by a green thread of the channel's own -- the broker
    confirms many at once (``multiple``).

    nameko took a connection object and a pooled producer for every message,
    then read that one message's confirm on that producer's connection: half
    of a busy service's time went to its replies, and as much of a caller's to
    its requests (``make bench NAME=rpc``, profiled). A message is confirmed as
    before, and ``mandatory`` is honoured: one the broker could not route
    raises ``UndeliverableMessage`` (a call to a service nobody serves). One
    whose connection goes before its confirm came is published once more on a
    new connection: a caller drops a second reply, a service a second request
    (by its correlation id)."""

    def __init__(self, amqp_uri: str, login_method: str | None, spawn) -> None:
        self.amqp_uri, self.login_method = amqp_uri, login_method
        self.spawn = spawn  # (the container's managed threads: the reader goes when the container has stopped)
        self.writing = Semaphore()
        self.connection = self.channel = None
        self.waiting: dict[int, tuple[Event, str | None]] = {}  # tag -> its confirm, its correlation id
        self.returned: set[str] = set()  # (correlation ids the broker could not route, until their confirm)
        self.next_tag = 1

    def publish(self, message: amqp.Message, exchange: str, routing_key: str, mandatory: bool = False) -> None:
        """Raises unless the broker confirmed ``message``: kombu's
        ``OperationalError`` if the broker was out of reach (as kombu's producer
        did: the caller answers 503)."""
        try:
            try:
                self._confirmed(message, exchange, routing_key, mandatory)
            except (OSError, AMQPError):  # (the connection went: once more, on a new one)
                self._confirmed(message, exchange, routing_key, mandatory)
        except (OSError, AMQPError) as exc:
            raise OperationalError(f"the broker did not confirm a message ({exc!r})") from exc

    def _confirmed(self, message, exchange: str, routing_key: str, mandatory: bool) -> None:
        with self.writing:
            if self.connection is None:
                self._connect()
            connection, tag = self.connection, self.next_tag
            self.next_tag += 1
            confirm = Event()
            self.waiting[tag] = (confirm, message.properties.get("correlation_id"))
            try:
                self.channel.basic_publish(message, exchange=exchange, routing_key=routing_key, mandatory=mandatory)
            except Exception as exc:
                self._lost(connection, exc)
                raise
        try:
            with eventlet.Timeout(CONFIRM_WITHIN, TimeoutError("the broker did not confirm a message in time")):
                confirm.wait()  # (raises what the broker or the connection answered instead)
        except TimeoutError as exc:
            self._lost(connection, exc)  # (a connection that confirms nothing for so long is taken for gone)
            raise

    def _connect(self) -> None:
        connection = broker.connection(self.amqp_uri, login_method=self.login_method, heartbeat=0)
        connection.connect()
        broker.no_read_before_publish(connection)  # (only the reader reads)
        try:
            channel = connection.channel()
            channel.confirm_select()
        except BaseException:
            connection.release()
            raise
        channel.events["basic_ack"].add(self._acked)
        channel.events["basic_nack"].add(self._nacked)
        channel.events["basic_return"].add(self._returned)
        self.connection, self.channel, self.next_tag = connection, channel, 1
        self.returned.clear()
        self.spawn(partial(self._read, connection), identifier="confirmed_channel")

    def _read(self, connection) -> None:
        """Dispatch ``connection``'s confirms until it goes (or the container stops)."""
        failure: Exception = ConnectionError("the channel was closed")
        try:
            while True:
                connection.drain_events()
        except Exception as exc:  # noqa: BLE001 - whatever ended it, the messages waiting on it fail
            failure = exc
        finally:
            self._lost(connection, failure)

    def _returned(self, exc, exchange, routing_key, message) -> None:
        # (the broker returns an unroutable mandatory message before it confirms it)
        correlation_id = message.properties.get("correlation_id")
        if correlation_id is not None:
            self.returned.add(correlation_id)

    def _settle(self, tag: int, multiple: bool, nacked: bool) -> None:
        for settled in [t for t in self.waiting if t <= tag] if multiple else [tag]:
            confirm, correlation_id = self.waiting.pop(settled, (None, None))
            if confirm is None:
                continue
            returned = correlation_id in self.returned
            self.returned.discard(correlation_id)
            if nacked:
                confirm.send_exception(MessageNacked("the broker refused the message"))
            elif returned:
                confirm.send_exception(UndeliverableMessage())
            else:
                confirm.send()

    def _acked(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple, nacked=False)

    def _nacked(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple, nacked=True)

    def _lost(self, connection, exc: Exception) -> None:
        """``connection`` is gone: every message still waiting on it fails."""
        if connection is None or connection is not self.connection:
            return  # (gone already)
        self.connection = self.channel = None
        waiting, self.waiting = self.waiting, {}
        failure = exc if isinstance(exc, OSError | AMQPError) else ConnectionError(f"the channel went: {exc!r}")
        for confirm, _ in waiting.values():
            confirm.send_exception(failure)
        try:
            connection.release()
        except Exception:
            log.debug("error closing a confirmed channel's connection", exc_info=True)


SEEN = 100_000  # correlation ids a service process remembers, to know a request sent twice


class RpcConsumer(nameko_rpc.RpcConsumer):
    def setup(self) -> None:
        super().setup()
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.replies = Confirmed(self.amqp_uri, config.get(nameko_rpc.LOGIN_METHOD_CONFIG_KEY),
                                 self.container.spawn_managed_thread)

    def handle_message(self, body, message):
        """As nameko's, dropping a request already received (the same correlation id)."""
        correlation = message.properties.get("correlation_id")
        if correlation is not None:
            if correlation in self.seen:
                log.warning("a request to %s was received twice (its caller's publish was retried); the copy is "
                            "dropped", message.delivery_info.get("routing_key"))
                self.consumer.ack_message(message)
                return
            self.seen[correlation] = None
            if len(self.seen) > SEEN:
                self.seen.popitem(last=False)
        super().handle_message(body, message)

    def handle_result(self, message, result, exc_info):
        """As nameko's, with transient replies on the process's reply channel
        (:class:`Confirmed`), a dependency out of reach answered as
        ``Unavailable``, and a reply the broker cannot take now logged, not
        fatal to the service."""
        outage = unavailable(exc_info[1]) if exc_info else None
        if outage is not None:
            exc_info = (type(outage), outage, exc_info[2])
        serializer = kombu.serialization.registry.type_to_name[message.properties["content_type"]]  # (as asked)
        try:
            encoded = kombu.serialization.dumps({"result": result, "error": serialize(exc_info[1]) if exc_info
                                                 else None}, serializer)
        except EncodeError:  # (as nameko: a result that cannot be sent is answered with the error it raised)
            exc_info = sys.exc_info()
            encoded = kombu.serialization.dumps({"result": None, "error": serialize(UnserializableValueError(result))},
                                                serializer)
            result = None
        reply = transient(encoded, correlation_id=message.properties.get("correlation_id"), application_headers={})
        try:
            self.replies.publish(reply, nameko_rpc.get_rpc_exchange().name, message.properties["reply_to"])
        except (OSError, OperationalError, AMQPError, MessageNacked) as exc:
            log.warning("a reply was lost: the broker did not take it (%s); the caller's timeout answers it",
                        exc.__class__.__name__)
            return result, exc_info
        if not getattr(message, "confide_acked", False):  # (a refusal, a malformed request: never worked on)
            self.consumer.ack_message(message)
        return result, exc_info


class Rpc(nameko_rpc.Rpc):
    rpc_consumer = RpcConsumer()

    def handle_message(self, body, message):
        """As nameko's, acknowledging the request once its worker is spawned (and
        before it runs): at most once."""
        try:
            args, kwargs = body["args"], body["kwargs"]
        except KeyError:
            raise MalformedRequest("Message missing `args` or `kwargs`") from None
        self.check_signature(args, kwargs)
        context_data = decode_from_headers(message.headers)

        def spawn_worker():
            # wait for a free worker without taking it (eventlet's GreenPool), so that the channel can be
            # looked at after the wait: if it went meanwhile, the broker hands the request out again
            slots = self.container._worker_pool.sem
            slots.acquire()
            slots.release()
            if not message.channel.connection:
                return
            try:
                self.container.spawn_worker(self, args, kwargs, context_data=context_data,
                                            handle_result=partial(self.handle_result, message))
            except ContainerBeingKilled:
                self.rpc_consumer.consumer.requeue_message(message)
                return
            message.confide_acked = True  # (before the write: the worker may answer while it blocks)
            self.rpc_consumer.consumer.ack_message(message)  # (the worker has not run yet: no switch since)

        # (a thread of its own, as nameko's: waiting for a free worker must not block the consumer)
        self.container.spawn_managed_thread(
            spawn_worker, identifier=f"wait_for_worker_pool[{self.container.service_name}.{self.method_name}]")


rpc = Rpc.decorator


READY_WITHIN = 10.0  # seconds a call waits for the reply listener to be consuming


class ReplyListener(nameko_rpc.ReplyListener):
    """nameko's, acknowledging the replies that arrive together with one ack.

    nameko acknowledged each reply as it came: under load, a frame written to
    the broker per reply, an eighth of a calling service's time. The replies
    read in one go are acknowledged once the listener has read them all and
    waits for more (``multiple``: this reply and every one before it on the
    channel), or when half as many as the broker sends unacknowledged
    (``PREFETCH_COUNT``) are waiting, so that it never stops sending. One not
    yet acknowledged when the connection goes is delivered again on the next,
    as before; its call has been answered, and nameko drops a reply it is no
    longer waiting for."""

    def setup(self) -> None:
        super().setup()
        self.unacked, self.unacked_count = None, 0  # (the last reply read, not yet acknowledged; how many)
        prefetch = self.consumer.prefetch_count  # (0: the broker sends without a limit)
        self.acknowledge_at = max(1, prefetch // 2) if prefetch else 100

    def handle_message(self, body, message):
        if self.unacked is None:
            eventlet.spawn_n(self._acknowledge)  # (runs when the listener next waits for the broker)
        self.unacked = message
        self.unacked_count += 1
        if self.unacked_count >= self.acknowledge_at:
            self._acknowledge()
        correlation_id = message.properties.get("correlation_id")
        rpc_call = self.pending.pop(correlation_id, None)
        if rpc_call is not None:
            rpc_call.send(body)
        else:
            log.debug("a reply to a call no longer waited for (correlation id %s)", correlation_id)

    def _acknowledge(self) -> None:
        message, self.unacked, self.unacked_count = self.unacked, None, 0
        if message is not None and message.channel.connection:  # (else the broker has taken them back)
            try:
                message.channel.basic_ack(message.delivery_tag, multiple=True)
            except (OSError, AMQPError):  # (the connection closing meanwhile)
                pass


class Requests:
    """Publishes a client's requests on its :class:`Confirmed` channel, as
    nameko's publisher did (``mandatory``: a call to a service nobody serves
    raises ``UndeliverableMessage``, which nameko's client turns into
    ``UnknownService``), transient, and without declaring the reply queue again
    (the reply listener's consumer declares it, and on every reconnect)."""

    def __init__(self, channel: Confirmed, serializer: str, reply_to: str) -> None:
        self.channel, self.serializer, self.reply_to = channel, serializer, reply_to

    def publish(self, payload, *, routing_key: str, mandatory: bool = True, correlation_id: str | None = None,
                extra_headers: dict | None = None) -> None:
        request = transient(kombu.serialization.dumps(payload, self.serializer), correlation_id=correlation_id,
                            reply_to=self.reply_to, application_headers=dict(extra_headers or {}))
        self.channel.publish(request, nameko_rpc.get_rpc_exchange().name, routing_key, mandatory=mandatory)


class _Requests:
    """Requests on a confirmed channel of the client's own (:class:`Requests`)."""

    reply_listener = ReplyListener()

    def setup(self) -> None:
        super().setup()
        login_method = config.get(nameko_rpc.LOGIN_METHOD_CONFIG_KEY)
        self.publisher = Requests(Confirmed(self.amqp_uri, login_method, self.container.spawn_managed_thread),
                                  self.publisher.serializer, self.reply_listener.queue.routing_key)

    def get_dependency(self, worker_ctx):
        # (its queue declared; at once once it is; and never for long: a broker out of reach as the service
        # starts leaves the calls to fail as they would, not every worker waiting)
        self.reply_listener.consumer.ready.wait(READY_WITHIN)
        return super().get_dependency(worker_ctx)


class ClusterRpc(_Requests, nameko_rpc.ClusterRpc):
    """An RPC client to any service (the gateway's)."""


class ServiceRpc(_Requests, nameko_rpc.ServiceRpc):
    """An RPC client to one service (billing's to records)."""
