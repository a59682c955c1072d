"""``confide_messaging.outages``: which failures mean a dependency is out of reach
(the caller is answered 503, ``Retry-After``, and the log is one line) and which
are a fault of ours (500, a traceback)."""

from __future__ import annotations

import logging

import amqp.exceptions
import kombu.exceptions
import psycopg
import pytest
import requests
import sqlalchemy.exc
from confide_contracts.errors import InvalidRequest, Unavailable
from confide_messaging.outages import OutageLines, out_of_reach, unavailable
from confide_messaging.publisher import PublishFailed

pytestmark = pytest.mark.unit


def caused(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except BaseException as exc:  # noqa: BLE001 - what was raised, with its cause
        return exc


@pytest.mark.parametrize("exc, what", [
    (sqlalchemy.exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("terminating connection")),
     "the database"),
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


@pytest.mark.parametrize("exc", [ValueError("a bug"), KeyError("x"), InvalidRequest({"name": ["required"]}),
                                 sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("duplicate key")),
                                 caused(ValueError("a bug"), KeyError("x")), None])
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
