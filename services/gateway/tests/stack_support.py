"""Every service and the gateway in one test process, each with its own
database, on the test's vhost and Vault mounts; and an HTTP client for it."""

from __future__ import annotations

import socket
from pathlib import Path

import confide_audit
import confide_billing
import confide_credentialing
import confide_gateway
import confide_records
import confide_scheduling
import requests
from confide_audit.service import AuditService
from confide_billing.service import BillingService
from confide_credentialing.service import CredentialingService
from confide_gateway.devtokens import AUDIENCE, ISSUER, ensure_issuer, mint
from confide_gateway.service import GatewayService
from confide_persistence import create_engine
from confide_records.service import RecordsService
from confide_scheduling.service import SchedulingService
from confide_vault import Transit
from nameko import config

SERVICES = {
    "records": (RecordsService, confide_records, {}),
    "audit": (AuditService, confide_audit, {"AUDIT_PARTITIONS": 1, "AUDIT_FLUSH_MS": 20,
                                            "AUDIT_LOG_NAME": "confide.test/audit"}),
    "credentialing": (CredentialingService, confide_credentialing, {}),
    "scheduling": (SchedulingService, confide_scheduling, {}),
    "billing": (BillingService, confide_billing, {}),
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


def start_stack(names, migrated_database, vault_client, vault_mount, container_factory, tmp_path):
    """Start the named services and the gateway; returns (Api, engines by name)."""
    transit = Transit(vault_client, vault_mount("transit"))
    for key in ("record-notes", "psychotherapy-notes"):
        transit.create_key(key)
    transit.create_key("audit-checkpoints", key_type="ed25519")
    engines = {}

    def start(name, service, package, settings):
        engine = create_engine(migrated_database(Path(package.__file__).parent / "migrations", name))
        engines[name] = engine
        with config.patch({"DATABASE_URL": engine.url.render_as_string(hide_password=False), "VAULT": vault_client,
                           "TRANSIT_MOUNT": transit.mount, "OUTBOX_POLL_SECONDS": 1, **settings}):
            container_factory(service).start()

    for name in names:
        service, package, settings = SERVICES[name]
        start(name, service, package, settings)
    _, _, jwks = ensure_issuer(tmp_path)
    port = free_port()
    start("gateway", GatewayService, confide_gateway, {
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", "GATEWAY_JWKS": str(jwks), "GATEWAY_ISSUER": ISSUER,
        "GATEWAY_AUDIENCE": AUDIENCE, "GATEWAY_READY_TIMEOUT": 0.5})
    return Api(f"http://127.0.0.1:{port}", tmp_path), engines
