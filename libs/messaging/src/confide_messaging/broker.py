"""Connections to RabbitMQ. Over TLS (``amqps://``) the broker's certificate is
checked against the CA in ``AMQP_CACERT`` (else the system's) and its name
against the URI's host; nameko's own connections (RPC, replies) take the same
options from its ``AMQP_SSL`` setting, which ``confide-serve`` sets.

nameko's RPC exchange is checked (a passive declare), not declared, where the
broker's definitions made it (``BROKER_EXCHANGES=provisioned``): a service's
login may not configure it (``confide_messaging.topology``)."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import nameko.rpc
from kombu import Connection, Exchange
from nameko import config

from confide_messaging import topology


def ssl_options(uri: str, cafile: str | None = None) -> dict[str, Any] | None:
    """kombu's ``ssl`` option for ``uri``: None for plain ``amqp://``."""
    parts = urlsplit(uri)
    if parts.scheme != "amqps":
        return None
    # the URI's host, named here: kombu would put 127.0.0.1 for localhost, which a certificate may not name
    return {"server_hostname": parts.hostname, "context": {"cafile": cafile or None, "check_hostname": True}}


def process_ssl(uri: str) -> dict[str, Any] | None:
    """The TLS options of this process for ``uri``: nameko's ``AMQP_SSL``, else from ``AMQP_CACERT``."""
    if urlsplit(uri).scheme != "amqps":
        return None
    return config.get("AMQP_SSL") or ssl_options(uri, os.environ.get("AMQP_CACERT"))


def connection(uri: str, **options) -> Connection:
    """A kombu connection to ``uri`` with this process's TLS options."""
    return Connection(uri, ssl=process_ssl(uri), **options)


def no_read_before_publish(connection: Connection) -> None:
    """Stop py-amqp reading ``connection``'s socket before every publish. It does so to see a "connection
    blocked" notice (a broker's resource alarm) in time, when the broker may send one; the notice is still
    read, wherever the connection is next read (a confirm awaited). A confirmed channel with a reader of its
    own needs this -- only the reader may read (a writer reading too took frames from under it; over TLS,
    eventlet refused the second reader) -- and a batch of publishes saves a read attempt per message (a sixth
    of the outbox relay's time). The broker is told nothing different: the capability was announced when
    the connection was opened."""
    amqp_connection = connection.connection
    capabilities = {**amqp_connection.client_properties.get("capabilities", {}), "connection.blocked": False}
    amqp_connection.client_properties = {**amqp_connection.client_properties, "capabilities": capabilities}


_declared_rpc_exchange = nameko.rpc.get_rpc_exchange


def rpc_exchange() -> Exchange:
    """nameko's RPC exchange: passive where the definitions provisioned it."""
    exchange = _declared_rpc_exchange()
    if topology.exchanges_provisioned():
        return Exchange(exchange.name, type=exchange.type, durable=True, passive=True)
    return exchange


nameko.rpc.get_rpc_exchange = rpc_exchange  # (nameko looks it up at every use: its one place for the exchange)
