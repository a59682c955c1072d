"""Tracing and logging: one trace per request across services (W3C traceparent in
AMQP headers), SQL spans, JSON logs carrying the trace id, OTLP export when
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set."""

from confide_telemetry.setup import configure_logging, configure_tracing, current_trace_id

__all__ = ["configure_logging", "configure_tracing", "current_trace_id"]
