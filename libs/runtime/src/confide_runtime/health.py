"""A service's probes over HTTP, for Kubernetes, Docker and operators
(``HEALTH_ADDRESS``, e.g. ``0.0.0.0:8080``; off when unset):

``/healthz``
    200 while the service's container runs (liveness: restart it otherwise).
``/readyz``
    200 when the service answers its own ``health`` RPC through the broker,
    which touches its database: broker, consumer and database are all up
    (readiness: send it work). 503 with the reason otherwise.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import eventlet
from eventlet import wsgi

log = logging.getLogger(__name__)


def probe_app(service_name: str, running: Callable[[], bool], timeout: float = 5.0):
    from nameko.standalone.rpc import ServiceRpcClient

    def ready() -> tuple[bool, str]:
        try:
            with eventlet.Timeout(timeout), ServiceRpcClient(service_name) as client:
                answer = client.health()
        except eventlet.Timeout:
            return False, f"{service_name} did not answer its health call within {timeout:.0f}s"
        except Exception as exc:  # noqa: BLE001 - any failure is "not ready", with its reason
            return False, f"{type(exc).__name__}: {exc}"
        return answer.get("status") == "ok", json.dumps(answer, default=str)

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            ok, detail = running(), "running"
        elif path == "/readyz":
            ok, detail = ready() if running() else (False, "not running")
        else:
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"status": "no such probe"}']
        body = json.dumps({"status": "ok" if ok else "unavailable", "service": service_name, "detail": detail})
        start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "application/json")])
        return [body.encode()]

    return app


def serve_probes(address: str, service_name: str, running: Callable[[], bool]):
    """Listen on ``host:port`` in a green thread; returns the thread (kill it to stop)."""
    host, _, port = address.rpartition(":")
    sock = eventlet.listen((host or "0.0.0.0", int(port)))  # noqa: S104 - a pod's probes come from outside
    log.info("probes for %s on http://%s/healthz and /readyz", service_name, address)
    return eventlet.spawn(wsgi.server, sock, probe_app(service_name, running), log_output=False)
