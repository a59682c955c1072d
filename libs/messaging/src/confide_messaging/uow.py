"""The unit of work: one transaction that holds a service's change, the events it
emits (outbox) and, for a handler, the id of the event it handles (inbox).

Either all of it commits or none of it does (DESIGN.md rules 1 and 3).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from confide_events import Actor, Event, EventRegistry
from confide_events import registry as default_registry
from confide_persistence import Database, DatabaseAccess
from opentelemetry import propagate
from sqlalchemy import event, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from confide_messaging import doorbell
from confide_messaging.tables import inbox_table, outbox_table

BATCHING = "confide_batching"  # (in Connection.info: how many uow.batched() blocks are open on it)


class AlreadyHandled(Exception):
    """This consumer committed the effect of this event before; the delivery is a
    duplicate and is acknowledged without running the handler again."""


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


class UnitOfWork:
    def __init__(self, session: Session, producer: str, registry: EventRegistry) -> None:
        self.session = session
        self.producer = producer
        self.registry = registry
        self.events: list[Event] = []
        self._batch: list[Event] | None = None  # (inside batched(): validated, not yet written)

    def emit(
        self,
        type_name: str,
        payload: Mapping[str, Any],
        *,
        actor: Actor,
        site_id: str | None = None,
        version: int | None = None,
    ) -> Event:
        """Validate an event and write it to the outbox in this transaction
        (inside :meth:`batched`: when the block ends)."""
        event = self.registry.build(
            type_name,
            payload,
            producer=self.producer,
            actor=actor,
            site_id=site_id,
            traceparent=current_traceparent(),
            version=version,
        )
        if self._batch is not None:
            self._batch.append(event)
        else:
            self._write([event])
        return event

    def _write(self, events: list[Event]) -> None:
        write_to_outbox(self.session, events)
        self.events.extend(events)

    @contextlib.contextmanager
    def batched(self) -> Iterator[None]:
        """Events emitted in the block are validated as they are emitted (a bad
        one raises there) and written to the outbox together, in one statement,
        when the block ends -- before anything after it, so before the commit.
        A block that raises writes none of them, so a savepoint around it
        cannot keep an event whose change it rolled back; a savepoint begun
        inside it is refused (one rolled back there would keep its events).
        For a list that records an access per row: one INSERT, not one per row."""
        info = self.session.connection().info
        outer, self._batch = self._batch, []
        info[BATCHING] = info.get(BATCHING, 0) + 1
        try:
            yield
            mine = self._batch
        finally:
            self._batch = outer
            info[BATCHING] -= 1
        if outer is not None:
            outer.extend(mine)  # (a block inside another: written when the outer one ends)
        else:
            self._write(mine)

    def claim(self, consumer: str, event: Event) -> None:
        """Record that ``consumer`` handles ``event``; raise :class:`AlreadyHandled`
        if it already did."""
        claimed = self.session.execute(
            insert(inbox_table)
            .values(consumer=consumer, event_id=event.id, event_type=event.type)
            .on_conflict_do_nothing()
            .returning(inbox_table.c.event_id)
        ).first()
        if claimed is None:
            raise AlreadyHandled(f"{consumer} already handled {event.type} {event.id}")


@event.listens_for(Engine, "savepoint")
def _no_savepoint_in_a_batch(conn, name) -> None:
    if conn.info.get(BATCHING):
        raise RuntimeError("a savepoint begun inside uow.batched(): the block writes its events when it ends, so "
                           "one the savepoint rolled back would be kept; begin the savepoint outside the block")


# The events go in as one JSON array, a single parameter: one json.dumps for the batch. As a jsonb[] array,
# psycopg quoted each message's text character by character in Python; and a fixed statement given to the
# driver as it is skips SQLAlchemy's compiling and caching (an access event's write: 680 -> 240 us).
_WRITE = (f"INSERT INTO {outbox_table.name} (id, type, message) "
          "SELECT (m ->> 'id')::uuid, m ->> 'type', m "
          "FROM jsonb_array_elements(%(messages)s::jsonb) WITH ORDINALITY AS batch (m, n) ORDER BY n")
_json = json.JSONEncoder(separators=(",", ":")).encode


def write_to_outbox(session: Session, events: list[Event]) -> None:
    """``events`` into the outbox, in order, in one statement."""
    if not events:
        return
    session.connection().exec_driver_sql(_WRITE, {"messages": _json([e.message for e in events])})
    doorbell.ring_after_commit(session)  # (the relay wakes only if and when this commits)


def was_handled(session: Session, consumer: str, event_id) -> bool:
    return (
        session.execute(
            select(inbox_table.c.event_id).where(
                inbox_table.c.consumer == consumer, inbox_table.c.event_id == event_id
            )
        ).first()
        is not None
    )


class MessagingAccess(DatabaseAccess):
    producer: str = ""
    consumer: str = ""
    registry: EventRegistry = default_registry

    @contextlib.contextmanager
    def __call__(self, handling: Event | None = None) -> Iterator[UnitOfWork]:
        """``with self.uow() as uow:`` -- or, in an event handler,
        ``with self.uow(handling=event) as uow:``, which raises
        :class:`AlreadyHandled` for a duplicate delivery."""
        with self.transaction() as session:
            uow = UnitOfWork(session, self.producer, self.registry)
            if handling is not None:
                uow.claim(self.consumer, handling)
            yield uow


class UnitOfWorkProvider(Database):
    """``uow = UnitOfWorkProvider()`` on a service: its database, outbox and inbox."""

    access_class = MessagingAccess

    def __init__(self, url_key: str = "DATABASE_URL", credentials_factory=None, registry=None):
        super().__init__(url_key=url_key, credentials_factory=credentials_factory)
        self.registry = registry or default_registry

    def get_dependency(self, worker_ctx) -> MessagingAccess:
        access = super().get_dependency(worker_ctx)
        access.producer = self.container.service_name
        access.consumer = f"{worker_ctx.service_name}.{worker_ctx.entrypoint.method_name}"
        access.registry = self.registry
        return access
