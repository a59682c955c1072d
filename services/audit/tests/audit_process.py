"""Runs the audit service in a process of its own, for tests that kill it.

Settings come as JSON in ``AUDIT_TEST_CONFIG``; Vault from ``VAULT_ADDR`` and
``VAULT_TOKEN``."""

from confide_persistence.green import patch

patch()

import json  # noqa: E402
import os  # noqa: E402

import eventlet  # noqa: E402
from confide_audit.service import AuditService  # noqa: E402
from confide_vault import VaultClient  # noqa: E402
from nameko import config  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402

if __name__ == "__main__":
    settings = json.loads(os.environ["AUDIT_TEST_CONFIG"])
    settings["VAULT"] = VaultClient.from_env()
    config.update(settings)
    runner = ServiceRunner()
    runner.add_service(AuditService)
    runner.start()
    print("ready", flush=True)
    while True:
        eventlet.sleep(1)
