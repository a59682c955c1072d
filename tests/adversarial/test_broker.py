"""What a service's own broker login could do to the others, against the
definitions as deployed (``infra/rabbitmq/definitions.json``) in a vhost of
their own. Before: any service could bind a queue of its own with ``#`` to
``nameko-rpc`` and copy every request and reply, and publish events under any
producer, which the consumers believed (a forged ``supervision.started``
grants a supervisor clinical reads)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import amqp
import pytest
from amqp.exceptions import AccessRefused
from confide_events import Actor, Event
from confide_testing import wait_until
from confide_testing.broker import API, GUEST, imported, login
from kombu import Connection
from sqlalchemy import text

DEFINITIONS = Path(__file__).parents[2] / "infra" / "rabbitmq" / "definitions.json"


@pytest.fixture
def broker():
    with imported(json.loads(DEFINITIONS.read_text())) as (vhost, suffix):
        import requests

        requests.put(f"{API}/permissions/{vhost}/guest", auth=GUEST, timeout=10,
                     json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
        yield vhost, suffix


def _bind(uri: str, queue: str, exchange: str, key: str) -> None:
    with Connection(uri) as connection:
        channel = connection.channel()
        channel.queue_declare(queue, durable=False, auto_delete=True)
        channel.queue_bind(queue, exchange, key)


@pytest.mark.parametrize("exchange, key", [("nameko-rpc", "#"), ("nameko-rpc", "records.*"),
                                           ("nameko-rpc", "*.get_psychotherapy_notes"),
                                           ("confide.events", "#"), ("confide.events", "records.access.recorded")])
def test_a_service_cannot_bind_to_copy_what_is_not_its_own(broker, exchange, key):
    vhost, suffix = broker
    billing = login(vhost, f"confide-billing{suffix}")
    with pytest.raises(AccessRefused):
        _bind(billing, "billing.spy", exchange, key)
    _bind(billing, "billing.spy", "nameko-rpc", "billing.*")  # (its own requests it may hear)


def test_a_service_cannot_publish_under_another_services_name(broker):
    vhost, suffix = broker
    billing = login(vhost, f"confide-billing{suffix}")
    with Connection(billing) as connection, pytest.raises(AccessRefused):
        channel = connection.channel()
        channel.basic_publish(amqp.Message(b"{}"), exchange="confide.events",
                              routing_key="credentialing.supervision.started")
        connection.drain_events(timeout=2)  # (the refusal closes the channel)
    with Connection(billing) as connection, pytest.raises(Exception, match="user_id"):
        channel = connection.channel()
        channel.basic_publish(amqp.Message(b"{}", user_id=f"confide-credentialing{suffix}"),
                              exchange="confide.events", routing_key="billing.charge.posted")
        connection.drain_events(timeout=2)


def test_an_event_under_another_services_name_is_dead_lettered(broker, running_service, caplog):
    """Billing may put a message straight into records' queue (the default
    exchange was how retries travelled). Now the broker refuses that; and
    should a login get a message there another way, records believes only what
    the broker says sent it, so a "credentialing" supervision from anyone else
    is parked. Records runs under its own login, which may not configure the
    shared exchanges: it only checks they are there."""
    vhost, suffix = broker
    records = running_service("records", AMQP_URI=login(vhost, f"confide-records{suffix}"),
                              BROKER_PRODUCER_USER=f"confide-{{producer}}{suffix}", BROKER_EXCHANGES="provisioned")
    forged = Event(type="credentialing.supervision.started", schema_version=1, producer="credentialing",
                   actor=Actor("intruder", "system"), payload={
                       "supervision_id": str(uuid.uuid4()), "supervisor_id": "dr-nosy", "supervisee_id": "dr-new",
                       "jurisdiction": "US-NY", "starts_on": dt.date.today().isoformat()})
    body = json.dumps(forged.to_message()).encode()
    with Connection(login(vhost, f"confide-billing{suffix}")) as connection, pytest.raises(AccessRefused):
        channel = connection.channel()
        channel.basic_publish(amqp.Message(body, content_type="application/json", user_id=f"confide-billing{suffix}"),
                              exchange="", routing_key="records.on_supervision")
        connection.drain_events(timeout=2)  # (the refusal closes the channel)
    from confide_messaging.dlq import list_dead_letters

    guest = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    with Connection(guest) as connection:  # a login that may (an operator's), but is not credentialing's
        connection.channel().basic_publish(amqp.Message(body, content_type="application/json", user_id="guest"),
                                           exchange="", routing_key="records.on_supervision")
    [letter] = wait_until(lambda: list_dead_letters(guest, "records.on_supervision.dead"), timeout=20,
                          what="the forged event in records' dead letters")
    assert "ForgedProducer" in letter.error and "guest" in letter.error
    assert any("ALERT forged-producer" in r.getMessage() and "'guest'" in r.getMessage() for r in caplog.records)
    with records.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM supervisions")).scalar() == 0


@pytest.mark.parametrize("exchange", ["nameko-rpc", "confide.events", "confide.unrouted"])
def test_a_service_cannot_delete_or_redefine_the_shared_exchanges(broker, exchange):
    """Every service could configure the shared exchanges, so any one could delete
    ``nameko-rpc`` and stop every call of the platform."""
    vhost, suffix = broker
    records = login(vhost, f"confide-records{suffix}")
    with Connection(records) as connection, pytest.raises(AccessRefused):
        connection.channel().exchange_delete(exchange)
    with Connection(records) as connection, pytest.raises(AccessRefused):
        connection.channel().exchange_declare(exchange, "topic", durable=True)
    with Connection(records) as connection:  # checking that it is there needs no right
        connection.channel().exchange_declare(exchange, "topic", passive=True)
