"""nameko's HTTP entrypoint and server, made to answer every error -- routing
misses, malformed requests, anything unexpected -- as an RFC 9457 problem
document rather than werkzeug's HTML or nameko's plain text; to refuse a body
larger than ``GATEWAY_MAX_BODY_BYTES`` before anything reads it (413); and to
mark every answer as not to be cached or sniffed (``Cache-Control: no-store``,
``X-Content-Type-Options: nosniff``): answers carry health information."""

from __future__ import annotations

import io
import logging

from confide_telemetry import current_trace_id
from nameko import config
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer
from werkzeug.wrappers import Response

from confide_gateway import problems

log = logging.getLogger(__name__)

TITLES = {404: ("not-found", "Not found"), 405: ("method-not-allowed", "Method not allowed"),
          400: ("invalid-request", "The request is not valid")}


MAX_BODY_BYTES = 1024 * 1024  # a note, a claim or a client's record fits many times over
EVERY_ANSWER = (("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"))


def _too_large(environ, limit: int) -> bool:
    """Whether the request body is over ``limit`` bytes; a chunked body (no
    length given) is read up to the limit and handed on from memory."""
    length = environ.get("CONTENT_LENGTH")
    if length:
        try:
            return int(length) > limit
        except ValueError:
            return False
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        body = environ["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            return True
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
    return False


class ProblemsMiddleware:
    """Rewrites any non-JSON error answer of the wrapped app as a problem."""

    def __init__(self, app, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    def __call__(self, environ, start_response):
        def marked(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            return start_response(status, [*headers, *(h for h in EVERY_ANSWER if h[0].lower() not in present)],
                                  exc_info)

        if _too_large(environ, self.max_body):
            answer = problems.problem(413, "too-large", "The request body is too large",
                                      f"at most {self.max_body} bytes")
            return answer(environ, marked)
        return self._answer(environ, marked)

    def _answer(self, environ, start_response):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = self.app(environ, capture)
        code = int(captured["status"].split(" ", 1)[0])
        content_type = next((v for k, v in captured["headers"] if k.lower() == "content-type"), "")
        # (the console's own pages -- with their policy, pages.HEADERS -- say what went wrong themselves)
        page = any(k.lower() == "content-security-policy" for k, _ in captured["headers"])
        if code < 400 or content_type.startswith("application/") or page:
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
    def get_wsgi_server(self, sock, wsgi_app, protocol=None, debug=False):
        """eventlet's server without its access log, whose request lines carry
        paths and query strings (client ids, a searched name): the gateway logs
        each answer by its operation's name instead."""
        server = super().get_wsgi_server(sock, wsgi_app, **({"protocol": protocol} if protocol else {}), debug=debug)
        server.log_output = False
        return server

    def get_wsgi_app(self):
        return ProblemsMiddleware(super().get_wsgi_app(),
                                  int(config.get("GATEWAY_MAX_BODY_BYTES", MAX_BODY_BYTES)))


class Endpoint(HttpRequestHandler):
    """``@endpoint("GET", "/path")``: as nameko's ``@http``, with problems for errors."""

    server = ProblemWebServer()

    def response_from_exception(self, exc) -> Response:
        trace_id = current_trace_id()
        log.error("unexpected error answering a request (trace %s): %r", trace_id, exc)
        return problems.problem(500, "internal", "Something went wrong on our side", trace_id=trace_id)


endpoint = Endpoint.decorator
