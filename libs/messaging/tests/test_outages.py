"""``confide_messaging.outages``: which failures mean a dependency is out of reach
(the caller is answered 503, ``Retry-After``, and the log is one line) and which
are a fault of ours (500, a traceback)."""

from __future__ import annotations

import logging

import amqp.exceptions
import kombu.exceptions
import psycopg
import psycopg.errors
import pytest
import requests
import sqlalchemy.exc
from confide_contracts.errors import InvalidRequest, Unavailable
from confide_messaging.outages import OutageLines, out_of_reach, unavailable
from confide_messaging.publisher import PublishFailed

pytestmark = pytest.mark.unit


def caused(outer: BaseException, inner: BaseException, explicitly: bool = True) -> BaseException:
    """``outer`` raised from ``inner`` (or, not ``explicitly``, while handling it)."""
    try:
        try:
            raise inner
        except BaseException as exc:
            if explicitly:
                raise outer from exc
            raise outer  # noqa: B904 - the point: a context, not a cause
    except BaseException as exc:  # noqa: BLE001 - what was raised, with its cause
        return exc


def sql(orig: BaseException) -> BaseException:
    """As SQLAlchemy raises a DBAPI error: its own, from psycopg's."""
    return caused(sqlalchemy.exc.OperationalError("SELECT 1", {}, orig), orig)


@pytest.mark.parametrize("exc, what", [
    (sql(psycopg.OperationalError("server closed the connection unexpectedly")), "the database"),
    (sql(psycopg.errors.AdminShutdown("terminating connection due to administrator command")), "the database"),
    (sql(psycopg.errors.TooManyConnections("sorry, too many clients already")), "the database"),
    (sql(psycopg.errors.DeadlockDetected("deadlock detected")), "the database"),
    (sqlalchemy.exc.TimeoutError("QueuePool limit reached"), "the database"),
    (psycopg.OperationalError("connection refused"), "the database"),
    (requests.exceptions.SSLError("EOF occurred in violation of protocol"), "Vault"),
    (requests.exceptions.ConnectTimeout("timed out"), "Vault"),
    (kombu.exceptions.OperationalError("Server unexpectedly closed connection"), "the message broker"),
    (amqp.exceptions.RecoverableConnectionError("connection already closed"), "the message broker"),
    (PublishFailed("broker unreachable"), "the message broker"),
    (caused(RuntimeError("could not encrypt"), requests.exceptions.ConnectionError("refused")), "Vault"),
    (Unavailable("the database"), "the database"),
])
def test_a_dependency_out_of_reach_is_named(exc, what):
    assert out_of_reach(exc) == what
    assert isinstance(unavailable(exc), Unavailable) and unavailable(exc).status == 503


@pytest.mark.parametrize("exc", [
    ValueError("a bug"), KeyError("x"), InvalidRequest({"name": ["required"]}), None,
    sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("duplicate key")),
    caused(ValueError("a bug"), KeyError("x")),
    # what the database says of the statement, not of the connection: a bug or a limit, never to retry
    sql(psycopg.errors.QueryCanceled("canceling statement due to statement timeout")),
    sql(psycopg.errors.ProgramLimitExceeded("index row size exceeds maximum")),
    # a bug met while handling an outage is a bug
    caused(KeyError("a bug in the handling"), psycopg.OperationalError("connection refused"), explicitly=False),
])
def test_anything_else_is_not_an_outage(exc):
    assert out_of_reach(exc) is None and unavailable(exc) is None


def test_an_outage_is_logged_as_one_line_naming_the_entrypoint():
    class Worker:
        entrypoint = type("Entrypoint", (), {"method_name": "get_note"})()
        container = type("Container", (), {"service_name": "records"})()

    def record(exc: BaseException) -> logging.LogRecord:
        return logging.LogRecord("nameko.containers", logging.ERROR, __file__, 1, "error handling worker %s: %s",
                                 (Worker(), exc), (type(exc), exc, None))

    outage = record(requests.exceptions.SSLError("EOF"))
    assert OutageLines().filter(outage)
    assert outage.getMessage() == "records.get_note failed: Vault out of reach (SSLError); answered 503"
    assert outage.exc_info is None and outage.levelname == "WARNING"
    bug = record(ValueError("a bug"))
    assert OutageLines().filter(bug) and bug.exc_info is not None and bug.levelname == "ERROR"
    # nameko's other records keep their traceback (a container's thread that died is not a refused request)
    died = requests.exceptions.SSLError("EOF")
    thread = logging.LogRecord("nameko.containers", logging.CRITICAL, __file__, 1, "%s thread exited with error",
                               ("<ServiceContainer>",), (type(died), died, None))
    assert OutageLines().filter(thread) and thread.exc_info is not None and thread.levelname == "CRITICAL"
