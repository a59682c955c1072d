"""nameko's RPC, without what each call paid for nothing (``make bench NAME=rpc``).

Every guarantee nameko's RPC gives is kept: requests are published with
confirms and ``mandatory`` (a call to a service nobody serves fails with
``UnknownService`` instead of waiting forever), replies with confirms (a reply
the broker did not take is not acked as answered). What goes:

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
from collections import OrderedDict
from functools import partial

import eventlet
from amqp.exceptions import AMQPError, MessageNacked
from kombu.exceptions import OperationalError
from nameko import config
from nameko import rpc as nameko_rpc
from nameko.amqp.publish import Publisher
from nameko.constants import NON_PERSISTENT
from nameko.exceptions import ContainerBeingKilled, MalformedRequest
from nameko.messaging import decode_from_headers

from confide_messaging.outages import quiet_outages, unavailable

log = logging.getLogger(__name__)
quiet_outages()


class ReplyPublisher(Publisher):
    delivery_mode = NON_PERSISTENT


class Responder(nameko_rpc.Responder):
    publisher_cls = ReplyPublisher


SEEN = 100_000  # correlation ids a service process remembers, to know a request sent twice


class RpcConsumer(nameko_rpc.RpcConsumer):
    def setup(self) -> None:
        super().setup()
        self.seen: OrderedDict[str, None] = OrderedDict()

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
        """As nameko's, with a responder that publishes transient replies, a
        dependency out of reach answered as ``Unavailable``, and a reply the
        broker cannot take now logged, not fatal to the service."""
        outage = unavailable(exc_info[1]) if exc_info else None
        if outage is not None:
            exc_info = (type(outage), outage, exc_info[2])
        responder = Responder(self.amqp_uri, nameko_rpc.get_rpc_exchange(), message,
                              ssl=config.get(nameko_rpc.AMQP_SSL_CONFIG_KEY),
                              login_method=config.get(nameko_rpc.LOGIN_METHOD_CONFIG_KEY))
        try:
            result, exc_info = responder.send_response(result, exc_info)
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
    channel). One not yet acknowledged when the connection goes is delivered
    again on the next, as before; its call has been answered, and nameko drops
    a reply it is no longer waiting for."""

    def setup(self) -> None:
        super().setup()
        self.unacked = None  # (the last reply read, not yet acknowledged)

    def handle_message(self, body, message):
        if self.unacked is None:
            eventlet.spawn_n(self._acknowledge)  # (runs when the listener next waits for the broker)
        self.unacked = message
        correlation_id = message.properties.get("correlation_id")
        rpc_call = self.pending.pop(correlation_id, None)
        if rpc_call is not None:
            rpc_call.send(body)
        else:
            log.debug("a reply to a call no longer waited for (correlation id %s)", correlation_id)

    def _acknowledge(self) -> None:
        message, self.unacked = self.unacked, None
        if message is not None and message.channel.connection:  # (else the broker has taken them back)
            try:
                message.channel.basic_ack(message.delivery_tag, multiple=True)
            except (OSError, AMQPError):  # (the connection closing meanwhile)
                pass


class _Requests:
    """Requests without the per-call reply-queue declare, not persisted."""

    reply_listener = ReplyListener()

    def setup(self) -> None:
        super().setup()
        self.publisher.declare = []  # the reply listener's consumer declares it (and on every reconnect)
        self.publisher.delivery_mode = NON_PERSISTENT

    def get_dependency(self, worker_ctx):
        # (its queue declared; at once once it is; and never for long: a broker out of reach as the service
        # starts leaves the calls to fail as they would, not every worker waiting)
        self.reply_listener.consumer.ready.wait(READY_WITHIN)
        return super().get_dependency(worker_ctx)


class ClusterRpc(_Requests, nameko_rpc.ClusterRpc):
    """An RPC client to any service (the gateway's)."""


class ServiceRpc(_Requests, nameko_rpc.ServiceRpc):
    """An RPC client to one service (billing's to records)."""
