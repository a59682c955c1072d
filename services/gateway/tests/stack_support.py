"""Every service and the gateway in one test process, each with its own
database, on the test's vhost and Vault mounts; and an HTTP client for it."""

from __future__ import annotations

import socket
from pathlib import Path

import requests
from confide_client.devtokens import AUDIENCE, ISSUER, ensure_issuer, mint

# each service's settings in a test (beyond its manifest's)
SERVICES = {
    "records": {},
    "audit": {"AUDIT_PARTITIONS": 1, "AUDIT_FLUSH_MS": 20, "AUDIT_LOG_NAME": "confide.test/audit"},
    "credentialing": {},
    "scheduling": {},
    "billing": {},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api(requests.Session):
    """``api.call("POST", "/clients", token, json=...)`` against the gateway."""

    def __init__(self, base: str, state: Path) -> None:
        super().__init__()
        self.base = base
        self.state = state

    def token(self, user: str, role: str, sites=("north",), **claims) -> str:
        return mint(self.state, user, role, list(sites), **claims)

    def call(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        outside_api = path.startswith(("/api/", "/openapi")) or path in ("/healthz", "/readyz")
        url = self.base + (path if outside_api else "/api/v1" + path)
        return self.request(method, url, headers=headers, timeout=30, **kwargs)


def start_stack(names, running_service, tmp_path):
    """Start the named services and the gateway, each as its manifest says and
    with its production database privileges; returns (Api, engines by name)."""
    engines = {name: running_service(name, **SERVICES[name]).engine for name in names}
    _, _, jwks = ensure_issuer(tmp_path)
    port = free_port()
    engines["gateway"] = running_service("gateway", **{
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", "GATEWAY_JWKS": str(jwks), "GATEWAY_ISSUER": ISSUER,
        "GATEWAY_AUDIENCE": AUDIENCE, "GATEWAY_READY_TIMEOUT": 0.5,
        "ENVIRONMENT": "development",
        # the suite's clients are scripts (the fuzzer sends thousands of requests as one user)
        "GATEWAY_RATE_PER_SECOND": 10_000, "GATEWAY_RATE_BURST": 10_000}).engine
    return Api(f"http://127.0.0.1:{port}", tmp_path), engines
