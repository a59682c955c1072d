"""The audit service's ingest in a process of its own, for ``bench/audit.py``:
``python -m bench.audit_ingest AMQP_URI DATABASE_URL CHAINS`` (``all``, or
``0,1``: ``AUDIT_CONSUME_CHAINS``), Vault from ``VAULT_ADDR``/``VAULT_TOKEN``/
``VAULT_CACERT``. Prints ``ready`` once loaded, starts consuming on a line
on stdin, and stops when stdin closes."""

from confide_persistence.green import patch

patch()  # before kombu opens sockets

import sys  # noqa: E402

from confide_audit.service import AuditService  # noqa: E402
from confide_runtime.heap import freeze_startup_objects  # noqa: E402
from confide_vault import VaultClient  # noqa: E402
from eventlet.hubs import trampoline  # noqa: E402
from nameko import config  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402

PARTITIONS = 4
BATCH = 1000


def settings(amqp_uri: str, url: str, chains: str, vault) -> dict:
    # the relay and the audit service share the benchmark's broker login (as a test run does)
    return {"AMQP_URI": amqp_uri, "DATABASE_URL": url, "VAULT": vault, "BROKER_PRODUCER_USER": "guest",
            "AUDIT_PARTITIONS": PARTITIONS, "AUDIT_BATCH_SIZE": BATCH, "AUDIT_CONSUME_CHAINS": chains,
            "OUTBOX_POLL_SECONDS": 1}


def serve(amqp_uri: str, url: str, chains: str) -> None:
    with config.patch(settings(amqp_uri, url, chains, VaultClient.from_env())):
        container = ServiceContainer(AuditService)
        print("ready", flush=True)
        trampoline(sys.stdin.fileno(), read=True)
        sys.stdin.readline()
        container.start()
        freeze_startup_objects()  # as confide-serve does once its service has started
        trampoline(sys.stdin.fileno(), read=True)  # until the benchmark closes it (a green wait)
        container.stop()


if __name__ == "__main__":
    serve(*sys.argv[1:4])
