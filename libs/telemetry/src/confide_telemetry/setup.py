from __future__ import annotations

import logging
import os
import sys

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from confide_telemetry.scrub import ScrubbedJsonFormatter, ScrubbingSpanProcessor

# Entrypoints of our own that nameko_opentelemetry should describe as consumers.
ENTRYPOINT_ADAPTERS = {
    "confide_messaging.consumer.EventHandler": "nameko_opentelemetry.messaging.ConsumerEntrypointAdapter",
}

_configured: TracerProvider | None = None


def configure_tracing(service_name: str, *extra_processors: SpanProcessor) -> TracerProvider:
    """Install the tracer provider once per process and instrument nameko.

    Spans go to OTLP over HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, and
    to any ``extra_processors`` (tests pass an in-memory exporter). Payloads and
    headers are never recorded: only identifiers and outcomes; an exception's
    text is withheld (``confide_telemetry.scrub``).
    """
    global _configured
    if _configured is None:
        provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(ScrubbingSpanProcessor(BatchSpanProcessor(OTLPSpanExporter())))
            _configure_metrics(provider.resource)
        trace.set_tracer_provider(provider)
        _configured = provider

        from nameko_opentelemetry import NamekoInstrumentor

        NamekoInstrumentor().instrument(
            send_headers=False,
            send_request_payloads=False,
            send_response_payloads=False,
            entrypoint_adapters=ENTRYPOINT_ADAPTERS,
        )
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        # Patches create_engine: every engine made from now on emits SQL spans
        # (statements only; never parameters).
        SQLAlchemyInstrumentor().instrument(enable_commenter=False)
    for processor in extra_processors:
        _configured.add_span_processor(ScrubbingSpanProcessor(processor))
    return _configured


def _configure_metrics(resource: Resource) -> None:
    """Metrics (the audit chains' lag, for one) to the same OTLP endpoint, every 30 s."""
    from opentelemetry import metrics
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    reader = PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=30_000)
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=[reader]))


def current_trace_id() -> str | None:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


class TraceContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        record.trace_id = format(ctx.trace_id, "032x") if ctx.is_valid else None
        record.span_id = format(ctx.span_id, "016x") if ctx.is_valid else None
        return True


def configure_logging(service_name: str, level: str | None = None, stream=None) -> logging.Handler:
    """JSON lines on stderr, each with the service, trace id and span id; no
    exception's text (it may quote a request: ``confide_telemetry.scrub``)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(TraceContextFilter())
    handler.setFormatter(
        ScrubbedJsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s %(span_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service_name},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("LOG_LEVEL", "INFO"))
    return handler
