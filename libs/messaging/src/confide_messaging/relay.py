"""The outbox relay: publishes committed outbox rows and only then marks them sent.

It wakes when a transaction that wrote to the outbox commits in its process
(``confide_messaging.doorbell``), and also polls every ``poll_interval``
seconds for a write from elsewhere. Rows are claimed with ``FOR UPDATE SKIP
LOCKED`` so several replicas of a service can relay at once.
"""

from __future__ import annotations

import logging
import threading

from confide_persistence.green import killed
from opentelemetry import propagate, trace
from sqlalchemy import Text, bindparam, cast, func, select, update
from sqlalchemy.engine import Engine

from confide_messaging import doorbell
from confide_messaging.publisher import ConfirmingPublisher, OutgoingMessage, PublishFailed
from confide_messaging.tables import outbox_table

log = logging.getLogger(__name__)
tracer = trace.get_tracer("confide.messaging.relay")
NO_SITE = "network"  # events that concern no one site

# a pass's statements, built once (built on every pass, they were a sixth of the relay's time)
_UNSENT = (
    select(
        outbox_table.c.seq,
        outbox_table.c.id,
        outbox_table.c.type,
        outbox_table.c.message["traceparent"].astext.label("traceparent"),
        outbox_table.c.message["site_id"].astext.label("site_id"),
        cast(outbox_table.c.message, Text).label("body"),
    )
    .where(outbox_table.c.sent_at.is_(None))
    .order_by(outbox_table.c.seq)
    .limit(bindparam("batch_size"))
    .with_for_update(skip_locked=True)
)
_CLAIMED = outbox_table.c.seq.in_(bindparam("seqs", expanding=True))
_SENT = update(outbox_table).where(_CLAIMED).values(sent_at=func.now(),
                                                      publish_attempts=outbox_table.c.publish_attempts + 1)


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        amqp_uri: str,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        max_backoff: float = 10.0,
    ) -> None:
        self.engine = engine
        self.publisher = ConfirmingPublisher(amqp_uri)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.stopping = threading.Event()
        self.database = engine.url.database or ""
        self.bell = threading.Event()  # (rung by this process's commits while the relay runs)

    def _outgoing(self, row) -> OutgoingMessage:
        # site_id lets consumers partition by site (the audit trail's chains)
        headers: dict[str, str] = {"site_id": row.site_id or NO_SITE}
        if row.traceparent:
            parent = propagate.extract({"traceparent": row.traceparent})
            with tracer.start_as_current_span(
                f"publish {row.type}",
                context=parent,
                kind=trace.SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "rabbitmq",
                    "messaging.destination.name": row.type,
                    "messaging.message.id": str(row.id),
                },
            ):
                propagate.inject(headers)
        # the stored JSON goes out as it is: no decoding and re-encoding per message
        return OutgoingMessage(
            routing_key=row.type, body=row.body.encode(), headers=headers, message_id=str(row.id), type=row.type
        )

    def publish_pending(self) -> int:
        """One pass: publish up to ``batch_size`` unsent rows, in order, and mark
        them sent. Returns how many were published; raises
        :class:`PublishFailed` (leaving the rows unsent) if the broker did not
        confirm them."""
        seqs: list[int] = []
        try:
            with self.engine.begin() as conn:
                rows = conn.execute(_UNSENT, {"batch_size": self.batch_size}).all()
                if not rows:
                    return 0
                seqs = [row.seq for row in rows]
                self.publisher.publish(self._outgoing(row) for row in rows)
                conn.execute(_SENT, {"seqs": seqs})
        except PublishFailed as exc:
            self._note_failure(seqs, str(exc))
            raise
        return len(rows)

    def _note_failure(self, seqs: list[int], error: str) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(outbox_table).where(_CLAIMED)
                    .values(publish_attempts=outbox_table.c.publish_attempts + 1, last_error=error[:500]),
                    {"seqs": seqs},
                )
        except Exception:
            log.debug("could not record publish failure", exc_info=True)

    def drain(self) -> int:
        """Publish until the outbox is empty."""
        total = 0
        while not self.stopping.is_set():
            count = self.publish_pending()
            total += count
            if count < self.batch_size:
                break
        return total

    def pending(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(outbox_table).where(outbox_table.c.sent_at.is_(None))
            ).scalar_one()

    def run(self) -> None:
        """Relay until :meth:`stop`; survives broker and database outages."""
        doorbell.hang(self.database, self.bell)
        try:
            self._run()
        finally:
            doorbell.take_down(self.database, self.bell)  # (also when the relay is killed)
        self.publisher.close()

    def _run(self) -> None:
        backoff = 0.2
        while not self.stopping.is_set():
            try:
                self.bell.clear()  # (a commit from here on rings it again: none is missed)
                self.drain()
                backoff = 0.2
                self.bell.wait(self.poll_interval)
            except PublishFailed as exc:
                log.warning("outbox relay could not publish: %s; retrying in %.1fs", exc, backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
            except Exception as exc:
                if killed(exc):
                    raise
                log.warning("outbox relay error: %s; retrying in %.1fs", exc, backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    def stop(self) -> None:
        self.stopping.set()
        self.bell.set()  # (wakes it now)
