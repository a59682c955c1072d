"""Errors as RFC 9457 problem details (``application/problem+json``): a type,
a title, the status, a detail a person can act on, and for bad input ``errors``
naming each field. Nothing internal leaks: an unexpected error is a 500 with a
trace id to quote, no more.

A service's errors arrive as instances of the classes in
:mod:`confide_contracts.errors` (their structure kept on the wire), so each is
mapped by its class: no text is parsed.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson
from confide_contracts.errors import InvalidRequest, ServiceError, Unavailable
from confide_messaging.outages import unavailable
from nameko.exceptions import IncorrectSignature, RemoteError
from werkzeug.wrappers import Response

BASE = "https://confide.local/problems/"
log = logging.getLogger("confide_gateway.service")


def problem(status: int, slug: str, title: str, detail: str | None = None, **extra: Any) -> Response:
    body = {"type": BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(orjson.dumps(body), status=status, content_type="application/problem+json")


def from_error(exc: ServiceError, trace_id: str | None = None) -> Response:
    """The problem document of an error a service (or the gateway) raised on purpose."""
    if isinstance(exc, Unavailable):  # (what was out of reach is for the log, not the caller)
        response = problem(exc.status, exc.slug, exc.title, "try again in a few seconds; what was asked may "
                           "have been done: look before making it again (a retry with the same Idempotency-Key is "
                           "refused, 409)", trace_id=trace_id)
        response.headers["Retry-After"] = str(exc.RETRY_AFTER)
        return response
    if exc.status >= 500:
        return problem(exc.status, exc.slug, exc.title, trace_id=trace_id)
    return problem(exc.status, exc.slug, exc.title, exc.detail or None, errors=exc.errors or None)


# nameko's own refusal of a call that lacks an argument: "missing a required argument: 'name'"
MISSING = re.compile(r"argument: '(?P<name>\w+)'")


def from_remote(exc: Exception, trace_id: str | None = None) -> Response:
    """Anything else an RPC raised: a missing argument is the caller's 400; the
    rest is ours, a 500 with the trace id to quote."""
    if isinstance(exc, ServiceError):
        return from_error(exc, trace_id)
    if isinstance(exc, IncorrectSignature) or getattr(exc, "exc_type", None) == "IncorrectSignature":
        text = str(exc.value if isinstance(exc, RemoteError) else exc)
        names = MISSING.findall(text) or ["_request"]
        return from_error(InvalidRequest({n: ["required"] for n in names}, text))
    return problem(500, "internal", "Something went wrong on our side", trace_id=trace_id)


def from_failure(name: str, exc: Exception, trace_id: str | None) -> Response:
    """What a call to a service raised, as the caller's problem document, logged as
    what it is: a refusal (already logged by the service), a failure (an error
    line), or a dependency out of reach here or in the service (a warning line,
    503 with ``Retry-After``). Anything else is raised again: the gateway's own
    fault, a 500."""
    if isinstance(exc, Unavailable):
        log.warning("%s: %s out of reach; answered 503", name, exc.detail)
    elif isinstance(exc, ServiceError):
        if exc.status >= 500:
            log.error("%s failed: %s", name, exc)
    elif isinstance(exc, (IncorrectSignature, RemoteError)):  # nameko raises IncorrectSignature as itself
        if not isinstance(exc, IncorrectSignature) and exc.exc_type != "IncorrectSignature":
            log.error("%s failed: %s", name, exc)
        return from_remote(exc, trace_id)
    elif (outage := unavailable(exc)) is not None:  # the broker, for the gateway's own request
        log.warning("%s: %s out of reach (%s); answered 503", name, outage.detail, type(exc).__name__)
        exc = outage
    else:
        raise exc
    return from_error(exc, trace_id)


def unauthenticated() -> Response:
    response = problem(401, "unauthenticated", "Not authenticated")
    response.headers["WWW-Authenticate"] = 'Bearer realm="confide"'
    return response


def too_many(wait_seconds: float) -> Response:
    response = problem(429, "too-many-requests", "Too many requests", "slow down and retry after the pause given")
    response.headers["Retry-After"] = str(max(1, int(wait_seconds + 0.999)))
    return response
