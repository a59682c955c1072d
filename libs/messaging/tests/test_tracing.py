"""One request, one trace: RPC into ledger, nested RPC to statements, the event
ledger emits through its outbox and RabbitMQ, and statements' handler of it."""

import io
import json
import logging

import messaging_sample as sample
import pytest
from confide_telemetry import configure_logging, configure_tracing
from confide_testing import random_id, wait_until
from nameko.standalone.rpc import ClusterRpcClient
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@pytest.fixture(scope="module")
def exporter():
    exporter = InMemorySpanExporter()
    configure_tracing("confide-tests", SimpleSpanProcessor(exporter))
    return exporter


def test_one_trace_across_two_services(exporter, service_config, container_factory):
    statements = container_factory(sample.StatementsService)
    ledger = container_factory(sample.LedgerService)
    statements.start()
    ledger.start()
    exporter.clear()
    tracer = trace.get_tracer("test")
    account = random_id("acct")
    with tracer.start_as_current_span("gateway request") as root, ClusterRpcClient() as rpc:
        rpc.ledger.open_and_count(account)
        trace_id = root.get_span_context().trace_id

    expected = {"gateway request", "ledger.open_and_count", "statements.count_lines",
                "publish ledger.account.opened", "statements.on_opened"}

    def finished():  # a server span ends after its reply is sent: wait for all of them
        return [s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id]

    spans = wait_until(lambda: (found := finished()) and expected <= {s.name for s in found} and found,
                       what="every span of the trace")
    names = {s.name for s in spans}
    assert expected <= names, names
    # SQL spans too, in the same trace
    assert any(s.attributes.get("db.system") == "postgresql" for s in spans)
    # the handler hangs under the publish span, which hangs under the RPC that emitted it
    by_id = {s.context.span_id: s for s in spans}
    handler = next(s for s in spans if s.name == "statements.on_opened")
    publish = by_id[handler.parent.span_id]
    assert publish.name == "publish ledger.account.opened"
    ancestors = []
    span = publish
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        ancestors.append(span.name)
    assert "ledger.open_and_count" in ancestors
    assert ancestors[-1] == "gateway request"
    # no payload or header leaks into span attributes
    for s in spans:
        assert account not in json.dumps(dict(s.attributes or {}), default=str)


def test_json_logs_carry_the_trace_id(exporter):
    stream = io.StringIO()
    handler = configure_logging("confide-tests", "INFO", stream=stream)
    try:
        with trace.get_tracer("test").start_as_current_span("work") as span:
            logging.getLogger("confide.test").info("hello")
            trace_id = format(span.get_span_context().trace_id, "032x")
        line = json.loads(stream.getvalue().strip().splitlines()[-1])
    finally:
        logging.getLogger().removeHandler(handler)
    assert line["message"] == "hello"
    assert line["trace_id"] == trace_id
    assert line["service"] == "confide-tests"
    assert line["level"] == "INFO"
