"""An error that means a dependency is out of reach -- the database, Vault, the
message broker -- rather than a fault in the request or in our code: the caller
gets :class:`~confide_contracts.errors.Unavailable` (503, ``Retry-After``), and
the log one line naming what was out of reach, not a traceback (``make faults``:
Vault or the broker cut off answered 500s with a traceback each).

Recognised along the chain of explicit causes (``raise ... from``), never of an
error raised while handling another (a bug met during an outage is a bug): a
database connection that failed, was refused, lost or ended by the server
(psycopg's errors without an SQLSTATE, class 08, 57P01-57P03, 53300 too many
connections), a transaction rolled back for a deadlock or a serialization
failure (40P01, 40001), a pool that gave no connection in time; HTTP
connection errors and timeouts (hvac talking to Vault); kombu's and py-amqp's
connection errors and a publish the broker did not confirm. Anything else a
database says -- a statement cancelled, a limit exceeded, a constraint -- is
not an outage.
"""

from __future__ import annotations

import functools
import logging

from confide_contracts.errors import Unavailable, one_line

# the SQLSTATEs of a database out of reach for a moment (and of a transaction to simply run again)
RETRYABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300", "40P01", "40001"})


def _database_unreachable(exc: BaseException) -> bool:
    state = getattr(exc, "sqlstate", None)
    return state is None or state.startswith("08") or state in RETRYABLE_STATES


@functools.cache
def _kinds() -> tuple[tuple[type[BaseException], str, object], ...]:
    import amqp.exceptions
    import kombu.exceptions
    import psycopg
    import requests
    import sqlalchemy.exc

    from confide_messaging.publisher import PublishFailed

    always = None
    return ((sqlalchemy.exc.TimeoutError, "the database", always),  # (the pool: no connection in time)
            (psycopg.OperationalError, "the database", _database_unreachable),
            (requests.ConnectionError, "Vault", always), (requests.Timeout, "Vault", always),
            (kombu.exceptions.OperationalError, "the message broker", always),
            (amqp.exceptions.ConnectionError, "the message broker", always),
            (PublishFailed, "the message broker", always))


def out_of_reach(exc: BaseException | None) -> str | None:
    """What ``exc`` (or one of its explicit causes) says was out of reach, or ``None``."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, Unavailable):
            return exc.detail or "a dependency"
        for kind, what, test in _kinds():
            if isinstance(exc, kind) and (test is None or test(exc)):
                return what
        exc, seen = exc.__cause__, seen + 1  # (SQLAlchemy's errors say psycopg's as their cause)
    return None


def unavailable(exc: BaseException | None) -> Unavailable | None:
    what = out_of_reach(exc)
    if what is None:
        return None
    outage = Unavailable(what)
    outage.__cause__ = exc
    return outage


WORKER_FAILED = "error handling worker %s: %s"  # (nameko's words, for a worker whose handler raised)


class OutageLines(logging.Filter):
    """On ``nameko.containers``: a worker that failed because a dependency was out of
    reach is one WARNING line naming the entrypoint and what was out of reach
    (its caller is answered 503); anything else passes unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info and record.msg == WORKER_FAILED else None
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
