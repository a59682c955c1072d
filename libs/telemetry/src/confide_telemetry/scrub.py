"""No client data in logs or traces. An exception's text may carry what a
request held -- PostgreSQL quotes the duplicate key (``Key (email)=(...)``), a
parser quotes what it could not parse -- so what leaves a process about a
failure is its type, where it happened (the frames) and, for a database error,
its SQLSTATE and constraint: enough to find the bug, nothing to read. The text
itself is withheld from log lines (:class:`ScrubbedJsonFormatter`, arguments
and tracebacks) and from spans (:class:`ScrubbingSpanProcessor`). Engines hide
bound parameters too (``confide_persistence.create_engine``)."""

from __future__ import annotations

import logging
import re
import traceback

from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from opentelemetry.trace import Status
from pythonjsonlogger.json import JsonFormatter

WITHHELD = "(text withheld)"


def describe(exc: BaseException) -> str:
    """``exc`` as an operator may read it: its type and, for a database error,
    the SQLSTATE and the constraint, table or column it concerns."""
    diag_source = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    diag = getattr(diag_source, "diag", None)
    parts = [type(exc).__name__]
    sqlstate = getattr(diag_source, "sqlstate", None)
    if sqlstate:
        parts.append(f"SQLSTATE {sqlstate}")
    if diag is not None:
        for name in ("constraint_name", "table_name", "column_name"):
            value = getattr(diag, name, None)
            if value:
                parts.append(f"{name.removesuffix('_name')} {value}")
    return " ".join(parts) + f" {WITHHELD}"


def format_scrubbed(exc_info) -> str:
    """A traceback with every exception in the chain described, not quoted."""
    exc = exc_info[1]
    lines: list[str] = []
    seen: set[int] = set()
    chain: list[BaseException] = []
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    for position, item in enumerate(reversed(chain)):
        if position:
            lines.append("\nwhich led to:\n")
        frames = traceback.extract_tb(item.__traceback__)
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_list(frames))
        lines.append(describe(item) + "\n")
    return "".join(lines).rstrip("\n")


class ScrubbedJsonFormatter(JsonFormatter):
    """JSON lines whose exceptions -- in the arguments or the traceback -- are described, not quoted."""

    def format(self, record: logging.LogRecord) -> str:
        if isinstance(record.args, tuple) and any(isinstance(a, BaseException) for a in record.args):
            record.args = tuple(describe(a) if isinstance(a, BaseException) else a for a in record.args)
        return super().format(record)

    def formatException(self, ei) -> str:
        return format_scrubbed(ei)


_SEPARATORS = ("Traceback (most recent call last):", "During handling of the above exception",
               "The above exception was the direct cause")
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")


def scrub_stacktrace(stack: str) -> str:
    """A formatted traceback (as a span keeps it) with its frames kept and each
    exception reduced to its type; a message's further lines are dropped."""
    kept, after_frames = [], False
    for line in stack.splitlines():
        if line.startswith(" ") or not line.strip():
            kept.append(line)
            after_frames = line.startswith(" ")
        elif line.startswith(_SEPARATORS):
            kept.append(line)
        elif after_frames and (match := _EXCEPTION_LINE.match(line)):
            kept.append(f"{match.group(1)} {WITHHELD}")
            after_frames = False
    return "\n".join(kept)


def _scrub_attributes(attributes) -> dict:
    kept = dict(attributes or {})
    if kept.get("exception.message"):
        kept["exception.message"] = WITHHELD
    if isinstance(kept.get("exception.stacktrace"), str):
        kept["exception.stacktrace"] = scrub_stacktrace(kept["exception.stacktrace"])
    return kept


URL_ATTRIBUTES = ("http.target", "http.url", "url.full", "url.path", "url.query", "http.route")
_VALUE_SEGMENT = re.compile(r"^(?!v\d+$).*\d.*$|^.{25,}$")


def mask_path(text: str) -> str:
    """A URL or span name with its query dropped and every path segment that
    holds a value (a digit, or 25 characters and more: ids, names) masked."""
    if not isinstance(text, str) or ("/" not in text and "?" not in text):
        return text  # not a path (a span named for an operation, an exchange, a statement)
    head, _, _ = text.partition("?")
    return "/".join("{id}" if _VALUE_SEGMENT.match(part) else part for part in head.split("/"))


class ScrubbingSpanProcessor(SpanProcessor):
    """Hands ``delegate`` each ended span with exception messages and error
    descriptions withheld (exception type and stack frames kept)."""

    def __init__(self, delegate: SpanProcessor) -> None:
        self.delegate = delegate

    def on_start(self, span, parent_context=None) -> None:
        self.delegate.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        description = span.status.description
        status = Status(span.status.status_code, description.split(":", 1)[0] + f": {WITHHELD}") \
            if description else span.status
        events = [Event(e.name, _scrub_attributes(e.attributes), e.timestamp) for e in span.events]
        attributes = {k: mask_path(v) if k in URL_ATTRIBUTES else v for k, v in (span.attributes or {}).items()}
        self.delegate.on_end(ReadableSpan(
            name=mask_path(span.name), context=span.context, parent=span.parent, resource=span.resource,
            attributes=attributes, events=events, links=span.links, kind=span.kind, status=status,
            start_time=span.start_time, end_time=span.end_time, instrumentation_scope=span.instrumentation_scope))

    def shutdown(self) -> None:
        self.delegate.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.delegate.force_flush(timeout_millis)
