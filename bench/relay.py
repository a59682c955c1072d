"""Outbox relay throughput: batched publisher confirms against one confirm per message."""

from __future__ import annotations

import time

from confide_events import Actor, registry
from confide_messaging import OutboxRelay, add_messaging_tables
from confide_messaging.publisher import ConfirmingPublisher, OutgoingMessage
from confide_messaging.topology import events_exchange
from confide_messaging.uow import write_to_outbox
from confide_persistence import create_engine, make_metadata
from kombu import Connection, Queue
from sqlalchemy.orm import Session

from bench.common import Figures, database, vhost

N = 5000
ACTOR = Actor(id="bench", role="system")


def _events(n: int):
    return [
        registry.build(
            "bench.access.recorded",
            {"action": "read", "outcome": "allowed", "resource_type": "Note", "resource_id": f"n{i}",
             "client_id": f"c{i % 50}", "purpose": "treatment"},
            producer="bench", actor=ACTOR, site_id="site-1",
        )
        for i in range(n)
    ]


def run() -> Figures:
    import confide_access  # noqa: F401 - registers the access event schema

    figures = Figures("relay", f"outbox relay, {N} access events, persistent, through RabbitMQ")
    with database() as url, vhost() as amqp_uri:
        engine = create_engine(url)
        metadata = make_metadata()
        add_messaging_tables(metadata)
        metadata.create_all(engine)
        with Connection(amqp_uri) as conn:
            Queue("bench.sink", exchange=events_exchange, routing_key="#", durable=True).bind(conn.channel()).declare()

        events = _events(N)
        messages = [OutgoingMessage.for_event(e.to_message()) for e in events]

        # baseline: one confirm awaited per message
        single = ConfirmingPublisher(amqp_uri)
        started = time.perf_counter()
        for message in messages[: N // 5]:
            single.publish([message])
        baseline = (N // 5) / (time.perf_counter() - started)
        single.close()
        figures.add("confirm_each_per_s", baseline, "msg/s", "publish, one confirm per message (baseline)")

        batched = ConfirmingPublisher(amqp_uri)
        started = time.perf_counter()
        for i in range(0, N, 500):
            batched.publish(messages[i : i + 500])
        rate = N / (time.perf_counter() - started)
        batched.close()
        figures.add("confirm_batch_per_s", rate, "msg/s", "publish, confirms awaited per 500", baseline, "baseline")

        with Session(engine) as session, session.begin():
            write_to_outbox(session, events)
        relay = OutboxRelay(engine, amqp_uri, batch_size=500)
        started = time.perf_counter()
        relayed = relay.drain()
        rate = relayed / (time.perf_counter() - started)
        relay.publisher.close()
        figures.add("relay_per_s", rate, "events/s", "outbox relay: claim, publish, confirm, mark sent", baseline,
                    "baseline")
        _commits(engine, figures)
        engine.dispose()
    return figures


WRITERS = 20


def _commits(engine, figures: Figures) -> None:
    """What waking the relay costs the writers: 20 at once, each committing transactions that write one
    event, with the relay rung in the process (the doorbell) against the NOTIFY it replaced."""
    import eventlet
    from sqlalchemy import text

    engine = create_engine(engine.url, pool_size=WRITERS)
    events = _events(WRITERS * 50 * 4)
    rates: dict[bool, list[float]] = {False: [], True: []}
    for notify in (True, False) * 2:
        batch, events = events[: WRITERS * 50], events[WRITERS * 50:]

        def writer(mine, notify=notify):
            for event in mine:
                with Session(engine) as session, session.begin():
                    write_to_outbox(session, [event])
                    if notify:
                        session.execute(text("SELECT pg_notify('confide_outbox', '')"))

        started = time.perf_counter()
        list(eventlet.GreenPool(WRITERS).imap(writer, [batch[i::WRITERS] for i in range(WRITERS)]))
        rates[notify].append(len(batch) / (time.perf_counter() - started))
    notified, rung = max(rates[True]), max(rates[False])
    figures.add("commits_notify_per_s", notified, "commits/s",
                f"{WRITERS} writers at once, each commit waking the relay with NOTIFY (the old way, baseline)")
    figures.add("commits_doorbell_per_s", rung, "commits/s", f"{WRITERS} writers at once, the relay rung in the "
                "process (the doorbell)", notified, "NOTIFY")
    engine.dispose()
