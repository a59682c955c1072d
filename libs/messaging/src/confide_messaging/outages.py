"""An error that means a dependency is out of reach -- the database, Vault, the
message broker -- rather than a fault in the request or in our code: the caller
gets :class:`~confide_contracts.errors.Unavailable` (503, ``Retry-After``), and
the log one line naming what was out of reach, not a traceback (``make faults``:
Vault or the broker cut off answered 500s with a traceback each).

Recognised by class, along the chain of causes: SQLAlchemy's and psycopg's
operational errors (a connection lost, refused or timed out, a statement
cancelled, a deadlock or serialization failure: all worth a retry), a pool that
gave no connection in time, HTTP connection errors and timeouts (hvac talking to
Vault), and kombu's and py-amqp's connection errors and a publish the broker
did not confirm.
"""

from __future__ import annotations

import functools
import logging

from confide_contracts.errors import Unavailable, one_line


@functools.cache
def _kinds() -> tuple[tuple[type[BaseException], str], ...]:
    import amqp.exceptions
    import kombu.exceptions
    import psycopg
    import requests
    import sqlalchemy.exc

    from confide_messaging.publisher import PublishFailed

    return ((sqlalchemy.exc.OperationalError, "the database"), (sqlalchemy.exc.InterfaceError, "the database"),
            (sqlalchemy.exc.TimeoutError, "the database"), (psycopg.OperationalError, "the database"),
            (requests.ConnectionError, "Vault"), (requests.Timeout, "Vault"),
            (kombu.exceptions.OperationalError, "the message broker"),
            (amqp.exceptions.ConnectionError, "the message broker"), (PublishFailed, "the message broker"))


def out_of_reach(exc: BaseException | None) -> str | None:
    """What ``exc`` (or one of its causes) says was out of reach, or ``None``."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, Unavailable):
            return exc.detail or "a dependency"
        for kind, what in _kinds():
            if isinstance(exc, kind):
                return what
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def unavailable(exc: BaseException | None) -> Unavailable | None:
    what = out_of_reach(exc)
    return None if what is None else Unavailable(what)


class OutageLines(logging.Filter):
    """On ``nameko.containers``: a worker that failed because a dependency was out of
    reach is one WARNING line naming the entrypoint and what was out of reach
    (its caller is answered 503); anything else passes unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        what = out_of_reach(exc) if exc is not None else None
        if what is not None:
            one_line(record, logging.WARNING, "failed: %s out of reach (%s); answered 503", what,
                     exc.__class__.__name__)
        return True


def quiet_outages() -> None:
    """Install :class:`OutageLines` once (``confide_messaging.rpc`` does, on import)."""
    logger = logging.getLogger("nameko.containers")
    if not any(isinstance(f, OutageLines) for f in logger.filters):
        logger.addFilter(OutageLines())
