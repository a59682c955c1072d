import pytest
import requests
from confide_client.devtokens import AUDIENCE, ISSUER, ensure_issuer, mint
from confide_testing.helpers import random_id


class Gateway(requests.Session):
    """``gw.call("GET", "/api/v1/...", token)`` against a gateway under test."""

    def __init__(self, base: str, state) -> None:
        super().__init__()
        self.base, self.state = base, state

    def token(self, role: str, sites=("north",), user: str | None = None, **claims) -> str:
        return mint(self.state, user or random_id(role), role, list(sites), **claims)

    def call(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.request(method, self.base + path, headers=headers, timeout=30, **kwargs)


@pytest.fixture
def gateway_with(running_service, tmp_path):
    """``gateway_with(*services, **settings)``: those services and a gateway (in
    development, trusting the dev issuer) with ``settings``."""
    from stack_support import SERVICES, free_port

    sessions = []

    def start(*services, **settings) -> Gateway:
        started = [running_service(name, **SERVICES[name]) for name in services]
        _, _, jwks = ensure_issuer(tmp_path)
        port = free_port()
        gateway = running_service("gateway", **{"WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", "GATEWAY_JWKS": str(jwks),
                                      "GATEWAY_ISSUER": ISSUER, "GATEWAY_AUDIENCE": AUDIENCE,
                                      "GATEWAY_READY_TIMEOUT": 0.5, "ENVIRONMENT": "development", **settings})
        sessions.append(Gateway(f"http://127.0.0.1:{port}", tmp_path))
        sessions[-1].services = {s.name: s for s in [*started, gateway]}  # each with an admin's engine
        return sessions[-1]

    yield start
    for session in sessions:
        session.close()
