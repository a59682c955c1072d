"""Who sent an event. The envelope's ``producer`` is whatever the sender wrote;
the AMQP ``user_id`` is checked by RabbitMQ against the connection's login. A
consumer believes an event only when the two agree: ``producer`` "records"
must come from the broker user ``confide-records`` (``BROKER_PRODUCER_USER``,
a template, says how producers map to users). Anything else -- a service
publishing under another's name, or no ``user_id`` at all -- is dead-lettered
with an alert, never handled: a forged ``supervision.started`` would otherwise
grant a supervisor clinical reads.

Where every component shares one broker login (a test run), the template is
that login; ``make run``, compose and the cluster give each service its own.
"""

from __future__ import annotations

import logging

from nameko import config

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "confide-{producer}"
# set by a consumer forwarding a failed event to its own retry queue: who published it first
SENT_BY_HEADER = "x-confide-sent-by"


class ForgedProducer(Exception):
    """The event says one producer; the broker says another user published it."""


def operators() -> set[str]:
    """Broker logins that may put an event back (``confide dlq replay``): the
    broker's administrators, who could do anything there anyway."""
    return {u.strip() for u in str(config.get("BROKER_OPERATORS", "confide-admin")).split(",") if u.strip()}


def expected_user(producer: str) -> str:
    return str(config.get("BROKER_PRODUCER_USER", DEFAULT_TEMPLATE)).format(producer=producer)


def sent_by(message) -> str | None:
    """The broker user that published ``message`` -- or, for one this consumer
    republished to its own retry queue (only it may publish as itself), the
    user that published it first."""
    return (getattr(message, "properties", None) or {}).get("user_id")


def first_sender(message, own_user: str | None = None) -> str | None:
    """Who published ``message`` first: the broker's word, or -- only for a message
    a trusted login put back (our own retry, an operator's replay) -- the header
    that login kept. A header from anyone else is ignored, never passed on."""
    publisher = sent_by(message)
    if publisher is not None and (publisher == own_user or publisher in operators()):
        return (getattr(message, "headers", None) or {}).get(SENT_BY_HEADER, publisher)
    return publisher


def check_producer(producer: str, message, own_user: str | None = None) -> None:
    """Raise :class:`ForgedProducer` (and alert) unless ``message`` was published
    by the broker user of ``producer`` -- or came back from our own retry queue
    (republished by ``own_user``) or from an operator's replay of a dead letter,
    saying who published it first."""
    publisher = first_sender(message, own_user)
    expected = expected_user(producer)
    if publisher != expected:
        log.critical("ALERT forged-producer: an event saying producer %r was published by broker user %r "
                     "(expected %r); dead-lettered", producer, publisher, expected)
        raise ForgedProducer(f"producer {producer!r} published by broker user {publisher!r}, not {expected!r}")
