"""Errors as RFC 9457 problem details (``application/problem+json``): a type,
a title, the status, a detail a person can act on, and for bad input ``errors``
naming each field. Nothing internal leaks: an unexpected error is a 500 with a
trace id to quote, no more."""

from __future__ import annotations

import re
from typing import Any

import orjson
from nameko.exceptions import RemoteError
from werkzeug.wrappers import Response

BASE = "https://confide.local/problems/"

# exception type names the services raise -> (status, slug, title)
KNOWN = {
    "InvalidRequest": (400, "invalid-request", "The request is not valid"),
    "AccessDenied": (403, "access-denied", "Not allowed"),
    "LookupError": (404, "not-found", "Not found"),
    "BookingConflict": (409, "conflict", "The time is taken"),
    "NotLicensed": (422, "not-licensed", "The clinician may not practise this session"),
    "RecordIntegrityError": (500, "record-integrity", "The record does not match its signature"),
}


FIELD_ERRORS = ("InvalidRequest", "BookingConflict", "NotLicensed")
# InvalidRequest's message is "field: what; other.field: what" (sorted by field)
FIELD = re.compile(r"(?:^|; )(?P<field>[A-Za-z_][\w.\-]*): ")


def parse_errors(message: str) -> dict[str, list[str]]:
    """The per-field errors of a service's InvalidRequest, from its message."""
    found = list(FIELD.finditer(message or ""))
    if not found:
        return {"_request": [message]}
    errors: dict[str, list[str]] = {}
    for here, after in zip(found, [*found[1:], None], strict=True):
        end = after.start() if after else len(message)
        errors.setdefault(here["field"], []).append(message[here.end():end].strip())
    return errors or {"_request": [message]}


def problem(status: int, slug: str, title: str, detail: str | None = None, **extra: Any) -> Response:
    body = {"type": BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(orjson.dumps(body), status=status, content_type="application/problem+json")


MISSING = re.compile(r"argument: '(?P<name>\w+)'")


def from_remote(exc: RemoteError, trace_id: str | None = None) -> Response:
    if exc.exc_type == "RemoteError":  # raised by an RPC the service itself made: the original error
        inner, _, rest = (exc.value or "").partition(" ")
        exc = RemoteError(inner, rest)
    if exc.exc_type == "IncorrectSignature":  # an argument the operation needs was not given
        names = MISSING.findall(exc.value or "") or ["_request"]
        return problem(400, "invalid-request", "The request is not valid", exc.value,
                       errors={n: ["required"] for n in names})
    known = KNOWN.get(exc.exc_type)
    if known is None:
        return problem(500, "internal", "Something went wrong on our side", trace_id=trace_id)
    status, slug, title = known
    errors = parse_errors(exc.value) if exc.exc_type in FIELD_ERRORS else None
    detail = exc.value if status < 500 else None
    return problem(status, slug, title, detail, errors=errors, trace_id=trace_id if status >= 500 else None)


def unauthenticated() -> Response:
    response = problem(401, "unauthenticated", "Not authenticated")
    response.headers["WWW-Authenticate"] = 'Bearer realm="confide"'
    return response
