"""Ingest: every access event from every service, appended in batches, one
writer per chain.

Access events reach ``audit.access``, a consistent-hash exchange bound to
``confide.events`` for ``*.access.recorded``, which spreads them by site over
``AUDIT_PARTITIONS`` quorum queues. Each queue is one chain, consumed with
RabbitMQ's *single active consumer*: the chain order is total, and when a
replica dies another takes over with no coordination of ours. A batch is
committed (entries, dedupe rows, tiles, new head, and a signed checkpoint when
due) before any of its messages is acknowledged; a redelivered event is
recognised by its id and stored once.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
from amqp.exceptions import AMQPError
from confide_access import ACCESS_EVENT_TYPE
from confide_events import Actor, EventError, registry
from confide_messaging import broker, doorbell, topology
from confide_messaging.consumer import UndecodableBody, dead_letter_reason
from confide_messaging.extension import finish
from confide_messaging.provenance import SENT_BY_HEADER, ForgedProducer, check_producer, first_sender
from confide_messaging.publisher import ConfirmingPublisher, OutgoingMessage
from confide_messaging.uow import write_to_outbox
from confide_persistence.green import killed
from confide_persistence.provider import ConfigurationError, engine_from_config
from confide_vault import Transit, VaultClient
from kombu import Connection, Consumer, Exchange, Queue
from nameko import config
from nameko.extensions import DependencyProvider
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from confide_audit import events, store, strict
from confide_audit.domain.chain import Appending, ChainHead, root_of
from confide_audit.domain.entry import AccessFacts
from confide_audit.models import checkpoints
from confide_audit.signing import CheckpointSigner
from confide_audit.witnessing import WitnessSubmitter, quorum_from, witnesses_from

log = logging.getLogger(__name__)

ACCESS_EXCHANGE = "audit.access"
# what PostgreSQL answers for data it will not keep (SQLSTATE class 22, through SQLAlchemy or from
# COPY directly); anything else -- a lost connection, a missing partition -- is the system's, and the
# batch is retried whole rather than its events parked
REFUSED_DATA = (DataError, psycopg.DataError)
SYSTEM_ACTOR = Actor(id="audit", role="system")
UNDECODABLE = object()


def decoded(message) -> Any:
    """A message's body as JSON, read by orjson (kombu's decoder, the standard library's with a hook on
    every object, took a seventh of a busy ingest); ``UNDECODABLE`` for a body that is not JSON, or not
    sent as JSON (what kombu's ``accept=["json"]`` refused)."""
    if message.content_type != "application/json":
        return UNDECODABLE
    try:
        return orjson.loads(message.body)
    except orjson.JSONDecodeError:
        return UNDECODABLE

access_exchange = Exchange(
    ACCESS_EXCHANGE, type="x-consistent-hash", durable=True, arguments={"hash-header": "site_id"}
)


def partition_queue(index: int) -> Queue:
    return Queue(
        f"audit.ingest.{index}",
        exchange=access_exchange,
        routing_key="1",  # the weight of this queue on the hash ring
        durable=True,
        queue_arguments={"x-queue-type": "quorum", "x-single-active-consumer": True},
    )


# the ingest's own way to its dead-letter queues (no service writes to the default exchange)
dead_letter_exchange = Exchange("audit.ingest.requeue", type="direct", durable=True)


def dead_letter_queue(index: int) -> Queue:
    name = f"audit.ingest.{index}.dead"
    return Queue(name, exchange=dead_letter_exchange, routing_key=name, durable=True,
                 queue_arguments={"x-queue-type": "quorum"})


DEFAULT_PARTITIONS = 4


def broker_topology(settings: dict) -> tuple[list[Exchange], list[Queue], list[tuple[str, str, str]]]:
    """What ingest declares with ``settings`` (the service's configuration), for
    the broker definitions (``infra/rabbitmq``): exchanges, queues, and
    exchange-to-exchange bindings (source, destination, key)."""
    partitions = int(settings.get("AUDIT_PARTITIONS", DEFAULT_PARTITIONS))
    queues = [q for i in range(partitions) for q in (partition_queue(i), dead_letter_queue(i))]
    return ([access_exchange, dead_letter_exchange], queues,
            [(topology.EVENTS_EXCHANGE, ACCESS_EXCHANGE, ACCESS_EVENT_TYPE)])


def declare_topology(connection: Connection, partitions: int) -> None:
    topology.declare(connection)
    channel = connection.channel()
    try:
        access_exchange.declare(channel=channel)
        access_exchange.bind_to(topology.events_exchange, routing_key=ACCESS_EVENT_TYPE, channel=channel)
        for index in range(partitions):
            partition_queue(index).bind(channel).declare()
            dead_letter_queue(index).bind(channel).declare()
    finally:
        channel.close()


class Settings:
    def __init__(self) -> None:
        self.partitions = int(config.get("AUDIT_PARTITIONS", DEFAULT_PARTITIONS))
        self.batch_size = int(config.get("AUDIT_BATCH_SIZE", 1000))
        self.flush_seconds = float(config.get("AUDIT_FLUSH_MS", 100)) / 1000
        self.checkpoint_every = int(config.get("AUDIT_CHECKPOINT_EVERY", 10000))
        self.checkpoint_seconds = float(config.get("AUDIT_CHECKPOINT_SECONDS", 60))
        self.signing_key = config.get("AUDIT_SIGNING_KEY", "audit-checkpoints")
        self.log_name = config.get("AUDIT_LOG_NAME", "confide.local/audit")
        self.transit_mount = config.get("TRANSIT_MOUNT", "transit")
        self.own_chains = self._own_chains(str(config.get("AUDIT_CONSUME_CHAINS", "all")))
        # a chain with events waiting and no progress for this long is lagging: health says so, and alerts
        self.max_lag_seconds = float(config.get("AUDIT_MAX_LAG_SECONDS", 60))

    def _own_chains(self, setting: str) -> list[int]:
        """Which chains this process consumes: ``all`` (default), or a list such as
        ``0,1`` so that several processes (pods) share the chains between them.
        Overlap is safe -- each queue has one active consumer -- but only
        disjoint sets add throughput."""
        if setting.strip() == "all":
            return list(range(self.partitions))
        try:
            chains = sorted({int(part) for part in setting.split(",") if part.strip()})
        except ValueError:
            raise ConfigurationError(f"AUDIT_CONSUME_CHAINS must be 'all' or chain numbers, got {setting!r}") from None
        if not chains or chains[0] < 0 or chains[-1] >= self.partitions:
            raise ConfigurationError(
                f"AUDIT_CONSUME_CHAINS {setting!r}: chains are 0..{self.partitions - 1} (AUDIT_PARTITIONS)"
            )
        return chains


class ChainWriter:
    """Appends batches to one chain and signs its checkpoints."""

    def __init__(self, engine, chain: int, signer: CheckpointSigner, settings: Settings) -> None:
        self.engine = engine
        self.chain = chain
        self.signer = signer
        self.settings = settings
        self.last_checkpoint_at = time.monotonic()

    def append(self, batch: list[AccessFacts]) -> ChainHead:
        """Commit ``batch`` (duplicates dropped); returns the new head."""
        made: list = []
        signed = False
        with self.engine.begin() as conn:
            store.lock_chain(conn, self.chain)
            head = store.load_head(conn, self.chain)
            seen = store.already_ingested(conn, [f.event_id for f in batch])
            fresh, ids = [], set()
            for facts in batch:
                if facts.event_id in seen or facts.event_id in ids:
                    continue
                ids.add(facts.event_id)
                fresh.append(facts)
            if fresh:
                appended = Appending(head, fresh, datetime.now(UTC))  # (hashed as it is written)
                made = store.write_batch(conn, appended)
                head = appended.head
                last = store.latest_checkpoint(conn, self.chain)
                signed = head.size - (last.size if last else 0) >= self.settings.checkpoint_every
                if signed:
                    self._checkpoint(conn, head)
        store.remember_partitions(made)  # (only now are they there for certain)
        if signed:
            self._ring()
        return head

    def checkpoint_if_due(self, force: bool = False) -> bool:
        if not force and time.monotonic() - self.last_checkpoint_at < self.settings.checkpoint_seconds:
            return False
        with self.engine.begin() as conn:
            store.lock_chain(conn, self.chain)
            head = store.load_head(conn, self.chain)
            last = store.latest_checkpoint(conn, self.chain)
            self.last_checkpoint_at = time.monotonic()
            if head.size == 0 or (last is not None and last.size >= head.size):
                return False
            self._checkpoint(conn, head)
        self._ring()
        return True

    def _ring(self) -> None:
        """A checkpoint's event is committed: wake the relay (its session did not own the commit)."""
        doorbell.ring(self.engine.url.database or "")

    def _checkpoint(self, conn, head: ChainHead) -> None:
        checkpoint, note, key_version = self.signer.sign(head)
        conn.execute(
            checkpoints.insert().values(
                chain=head.chain, size=head.size, root_hash=root_of(head), note=note, key_version=key_version
            )
        )
        event = registry.build(
            events.CHECKPOINT_SIGNED,
            {"chain": head.chain, "size": head.size, "origin": checkpoint.origin, "note": note,
             "root_hash": note.split("\n")[2]},
            producer="audit",
            actor=SYSTEM_ACTOR,
        )
        with Session(bind=conn) as session:
            write_to_outbox(session, [event])
        self.last_checkpoint_at = time.monotonic()
        log.info("chain %s checkpoint signed at size %s", head.chain, head.size)


class PartitionConsumer:
    """Consumes one partition queue in batches; survives broker and database outages."""

    def __init__(self, index: int, amqp_uri: str, writer: ChainWriter, settings: Settings) -> None:
        self.index = index
        self.amqp_uri = amqp_uri
        self.writer = writer
        self.settings = settings
        self.stopping = threading.Event()
        self.ingested = 0
        self.dead_lettered = 0
        self.progressed_at = time.monotonic()  # the last batch committed (or the start)
        self.holding = 0  # delivered to this consumer, not yet committed
        self.lag_seconds = 0.0  # from the newest event of that batch occurring to its commit

    def run(self) -> None:
        backoff = 0.2
        while not self.stopping.is_set():
            try:
                self._consume()
                backoff = 0.2
            except (OSError, AMQPError, ConnectionError) as exc:
                log.warning("audit partition %s: broker unavailable (%s); retrying", self.index, exc)
            except Exception as exc:
                if killed(exc):
                    raise
                log.exception("audit partition %s: batch failed; messages will be redelivered", self.index)
            self.stopping.wait(backoff)
            backoff = min(backoff * 2, 10)

    def _consume(self) -> None:
        buffer: list = []
        with broker.connection(self.amqp_uri, heartbeat=30) as connection:
            connection.connect()
            channel = connection.channel()
            channel.basic_qos(0, self.settings.batch_size * 2, False)
            dead = ConfirmingPublisher(self.amqp_uri)
            consumer = Consumer(
                channel,
                [partition_queue(self.index)],
                # a body that is not JSON is parked with the invalid events, not retried forever
                on_message=lambda msg: buffer.append((decoded(msg), msg)),
                no_ack=False,
                auto_declare=True,
            )
            try:
                with consumer:
                    first_at = None
                    while not self.stopping.is_set():
                        try:
                            connection.drain_events(timeout=self.settings.flush_seconds)
                        except TimeoutError:
                            pass
                        self.holding = len(buffer)
                        if buffer and first_at is None:
                            first_at = time.monotonic()
                        due = first_at is not None and (
                            len(buffer) >= self.settings.batch_size
                            or time.monotonic() - first_at >= self.settings.flush_seconds
                        )
                        if due:
                            self._flush(buffer, dead)
                            buffer.clear()
                            first_at = None
                        # at least every AUDIT_CHECKPOINT_SECONDS, busy or idle
                        self.writer.checkpoint_if_due()
                        connection.heartbeat_check()
            finally:
                dead.close()

    def _flush(self, received: list, dead: ConfirmingPublisher) -> None:
        """``received``: (body as :func:`decoded` read it, message) pairs. Events that do
        not parse, and events the database will not keep, are parked in the
        chain's dead letters with the reason; everything else commits in order."""
        batch: list[tuple[AccessFacts, object]] = []
        poison = []
        for body, message in received:
            try:
                if body is UNDECODABLE:
                    raise UndecodableBody(f"undecodable body ({message.content_type})")
                # an event in the producers' exact form is read directly; any other, by the schemas
                facts = strict.read(body) or AccessFacts.from_event(registry.parse(body))
                check_producer(facts.producer, message)  # nobody enters the trail under another's name
                batch.append((facts, message))
            except (EventError, ValueError, KeyError, ForgedProducer) as exc:
                poison.append((message, exc))
        refused = self._append_isolating(batch)
        poison += refused
        if poison:
            dead.publish(
                OutgoingMessage(
                    routing_key=dead_letter_queue(self.index).name, exchange=dead_letter_exchange.name,
                    body=m.body if isinstance(m.body, bytes) else str(m.body).encode(),
                    headers={"x-confide-error": dead_letter_reason(e),  # (never a refused row's values)
                             "x-confide-origin-queue": partition_queue(self.index).name,
                             SENT_BY_HEADER: first_sender(m)},  # (so an operator's replay is believed)
                    message_id=m.properties.get("message_id"),
                )
                for m, e in poison
            )
            self.dead_lettered += len(poison)
            log.error("audit partition %s: %d event(s) the trail cannot keep parked in %s", self.index, len(poison),
                      dead_letter_queue(self.index).name)
        # everything up to the last delivery tag is committed (or parked): ack at once
        last = received[-1][1]
        last.channel.basic_ack(last.delivery_tag, multiple=True)
        self.ingested += len(batch) - len(refused)
        self.progressed_at = time.monotonic()
        if batch:
            newest = max(facts.occurred_at for facts, _ in batch)
            self.lag_seconds = max(0.0, (datetime.now(UTC) - newest).total_seconds())

    def _append_isolating(self, batch: list[tuple[AccessFacts, object]]) -> list:
        """Append ``batch``; if the database refuses its data, halve it until the
        events it refuses stand alone, commit the others in order, and return the
        refused with the reason. One bad event never holds up the chain (it
        once did: the whole batch failed and came back, forever)."""
        if not batch:
            return []
        try:
            self.writer.append([facts for facts, _ in batch])
            return []
        except REFUSED_DATA as exc:
            if len(batch) == 1:
                return [(batch[0][1], getattr(exc, "orig", None) or exc)]
            middle = len(batch) // 2
            return self._append_isolating(batch[:middle]) + self._append_isolating(batch[middle:])

    def stop(self) -> None:
        self.stopping.set()


class AuditIngestor(DependencyProvider):
    """Runs one :class:`PartitionConsumer` per chain inside the audit service."""

    def setup(self) -> None:
        self.settings = Settings()
        self.engine = engine_from_config(
            "DATABASE_URL", application_name="audit-ingest", pool_size=self.settings.partitions + 1
        )
        vault = config.get("VAULT") or VaultClient.from_env()
        self.signer = CheckpointSigner(
            Transit(vault, self.settings.transit_mount), self.settings.signing_key, self.settings.log_name
        )
        amqp_uri = config["AMQP_URI"]
        with broker.connection(amqp_uri) as connection:
            declare_topology(connection, self.settings.partitions)
        self.consumers = [
            PartitionConsumer(i, amqp_uri, ChainWriter(self.engine, i, self.signer, self.settings), self.settings)
            for i in self.settings.own_chains
        ]
        self.witnesses = witnesses_from(config.get("AUDIT_WITNESSES"))
        self.quorum = quorum_from(config.get("AUDIT_WITNESS_QUORUM"), self.witnesses)
        self.submitter = WitnessSubmitter(self.engine, self.witnesses, self.settings.own_chains,
                                          float(config.get("AUDIT_WITNESS_SECONDS", 2)))
        self._gauges()

    def witnessing(self) -> tuple[int, list[str]]:
        """How many of which witnesses must have cosigned a checkpoint for it to count."""
        return self.quorum, [w.name for w in self.witnesses]

    def keys(self) -> dict[str, Any]:
        """The public keys a reader checks checkpoints with: the log's (Ed25519, by
        key name), its witnesses' (vkeys) and how many must have cosigned."""
        return {"key_name": self.signer.key_name,
                "public_keys": [base64.b64encode(k).decode() for k in self.signer.public_keys()],
                "witnesses": [w.verifier.vkey for w in self.witnesses], "quorum": self.quorum}

    def start(self) -> None:
        self.threads = [self.container.spawn_managed_thread(consumer.run, identifier=f"audit-ingest-{consumer.index}")
                        for consumer in self.consumers]
        if self.witnesses:
            self.threads.append(self.container.spawn_managed_thread(self.submitter.run, identifier="audit-witnessing"))

    def stop(self) -> None:
        """Let each partition finish its batch, then close the connections."""
        self.submitter.stop()
        for consumer in self.consumers:
            consumer.stop()
        for thread in getattr(self, "threads", []):
            finish(thread, seconds=10)
        self.engine.dispose()

    def kill(self) -> None:
        self.submitter.stop()
        for consumer in self.consumers:
            consumer.stop()
        self.engine.dispose()

    def get_dependency(self, worker_ctx) -> AuditIngestor:
        return self

    def lag(self) -> list[dict]:
        """Each chain this process consumes: events waiting in its queue, how long
        since it last committed, the lag of that commit, and whether it is
        lagging (events waiting, no progress for ``AUDIT_MAX_LAG_SECONDS``)."""
        now, chains = time.monotonic(), []
        with broker.connection(config["AMQP_URI"], connect_timeout=5) as connection:
            channel = connection.channel()
            for consumer in self.consumers:
                waiting = channel.queue_declare(partition_queue(consumer.index).name, passive=True).message_count \
                    + consumer.holding
                idle = now - consumer.progressed_at
                chains.append({"chain": consumer.index, "waiting": waiting, "seconds_since_progress": round(idle, 1),
                               "lag_seconds": round(consumer.lag_seconds, 3),
                               "lagging": waiting > 0 and idle > self.settings.max_lag_seconds})
        return chains

    def _gauges(self) -> None:
        """``confide.audit.chain_lag_seconds`` (the lag of each chain's last commit)
        and ``confide.audit.chain_seconds_since_progress``, for the metrics pipeline
        (OTLP, where ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set)."""
        from opentelemetry import metrics
        from opentelemetry.metrics import Observation

        meter = metrics.get_meter("confide.audit")
        meter.create_observable_gauge(
            "confide.audit.chain_lag_seconds", unit="s", description="event occurred to committed in its chain",
            callbacks=[lambda options: [Observation(c.lag_seconds, {"chain": c.index}) for c in self.consumers]])
        meter.create_observable_gauge(
            "confide.audit.chain_seconds_since_progress", unit="s", description="since the chain last committed",
            callbacks=[lambda options: [Observation(time.monotonic() - c.progressed_at, {"chain": c.index})
                                        for c in self.consumers]])
