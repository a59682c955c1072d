"""What a failing request held must not reach a log line or a span: an
operator's tools are not where a client's name, or an id they typed, belongs.
Before, refusals were logged with their words (which quote the request), the
web server logged every path and query string, engines put bound parameters in
their errors, and PostgreSQL's DETAIL (``Key (email)=(...)``) went to logs and
spans as it came."""

from __future__ import annotations

import io
import logging

import pytest
from confide_persistence import create_engine
from confide_telemetry import configure_logging, configure_tracing
from confide_testing import random_id
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text


@pytest.fixture(scope="module")
def spans():
    exporter = InMemorySpanExporter()
    configure_tracing("confide-tests", SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def logs():
    """Every log line of the platform, as production writes them (the test's own
    HTTP client, which logs the URLs it asks for, aside)."""
    root, client = logging.getLogger(), logging.getLogger("urllib3")
    kept_handlers, kept_level, client_level = root.handlers[:], root.level, client.level
    stream = io.StringIO()
    configure_logging("confide-tests", "DEBUG", stream=stream)
    client.setLevel(logging.WARNING)
    yield stream
    root.handlers[:] = kept_handlers
    root.setLevel(kept_level)
    client.setLevel(client_level)


def _everything_said(spans, logs) -> str:
    said = [logs.getvalue()]
    for span in spans.get_finished_spans():
        said += [span.name, str(span.status.description), str(dict(span.attributes or {}))]
        said += [str(dict(event.attributes or {})) for event in span.events]
    return "\n".join(said)


def test_a_failing_request_leaves_none_of_its_values_behind(spans, gateway_with, logs):
    gw = gateway_with("records", "audit")
    desk = gw.token("front_desk")
    secret = random_id("Zebulon")  # stands for a name, a phone number, an id typed by hand
    answers = [
        gw.call("GET", f"/api/v1/clients/{secret}", desk),
        gw.call("POST", "/api/v1/clients", desk, json={"given_name": secret, "family_name": secret,
                                                       "date_of_birth": f"{secret}", "home_site_id": "north"}),
        gw.call("GET", "/api/v1/audit/entries", gw.token("compliance_officer", sites=()),
                params={"client_id": secret, "since": secret}),
        gw.call("PATCH", f"/api/v1/clients/{secret}", desk, json={"email": secret}),
    ]
    assert all(400 <= a.status_code < 500 for a in answers), [a.status_code for a in answers]
    said = _everything_said(spans, logs)
    assert "refused" in said or "answered" in said  # (the requests were logged)
    assert secret not in said


def test_a_database_error_is_described_not_quoted(database_with, spans, logs):
    from sqlalchemy import Column, MetaData, String, Table

    metadata = MetaData()
    Table("people", metadata, Column("email", String(100), unique=True))
    url = database_with(metadata).url
    engine = create_engine(url)
    secret = f"{random_id('robin')}@example.org"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO people VALUES (:e)"), {"e": secret})
    with pytest.raises(Exception) as failed, trace.get_tracer("test").start_as_current_span("work") as span:
        try:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO people VALUES (:e)"), {"e": secret})
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(trace.Status(trace.StatusCode.ERROR, str(exc)))
            logging.getLogger("confide.test").exception("insert failed: %s", exc)
            raise
    assert secret in str(failed.value.orig)  # PostgreSQL quotes it ...
    said = _everything_said(spans, logs)
    assert "UniqueViolation" in said and "SQLSTATE 23505" in said and "people_email_key" in said
    assert secret not in said  # ... and nothing of ours repeats it
    engine.dispose()
