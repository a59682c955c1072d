"""nameko's HTTP entrypoint and server, made to answer every error -- routing
misses, malformed requests, anything unexpected -- as an RFC 9457 problem
document rather than werkzeug's HTML or nameko's plain text."""

from __future__ import annotations

import logging

from confide_telemetry import current_trace_id
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer
from werkzeug.wrappers import Response

from confide_gateway import problems

log = logging.getLogger(__name__)

TITLES = {404: ("not-found", "Not found"), 405: ("method-not-allowed", "Method not allowed"),
          400: ("invalid-request", "The request is not valid")}


class ProblemsMiddleware:
    """Rewrites any non-JSON error answer of the wrapped app as a problem."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = self.app(environ, capture)
        code = int(captured["status"].split(" ", 1)[0])
        content_type = next((v for k, v in captured["headers"] if k.lower() == "content-type"), "")
        if code < 400 or content_type.startswith("application/"):
            start_response(captured["status"], captured["headers"])
            return body
        if hasattr(body, "close"):
            body.close()
        slug, title = TITLES.get(code, ("internal", "Something went wrong on our side") if code >= 500
                                 else ("request-refused", "The request was refused"))
        detail = "no such operation or method" if code in (404, 405) else None
        answer = problems.problem(code, slug, title, detail)
        return answer(environ, start_response)


class ProblemWebServer(WebServer):
    def get_wsgi_app(self):
        return ProblemsMiddleware(super().get_wsgi_app())


class Endpoint(HttpRequestHandler):
    """``@endpoint("GET", "/path")``: as nameko's ``@http``, with problems for errors."""

    server = ProblemWebServer()

    def response_from_exception(self, exc) -> Response:
        trace_id = current_trace_id()
        log.error("unexpected error answering a request (trace %s): %r", trace_id, exc)
        return problems.problem(500, "internal", "Something went wrong on our side", trace_id=trace_id)


endpoint = Endpoint.decorator
