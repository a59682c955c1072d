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


_declared_rpc_exchange = nameko.rpc.get_rpc_exchange


def rpc_exchange() -> Exchange:
    """nameko's RPC exchange: passive where the definitions provisioned it."""
    exchange = _declared_rpc_exchange()
    if topology.exchanges_provisioned():
        return Exchange(exchange.name, type=exchange.type, durable=True, passive=True)
    return exchange


nameko.rpc.get_rpc_exchange = rpc_exchange  # (nameko looks it up at every use: its one place for the exchange)
