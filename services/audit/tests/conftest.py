import pytest
from audit_support import Producer
from confide_audit.service import AuditService
from confide_messaging import add_messaging_tables
from confide_persistence import create_engine, make_metadata
from confide_runtime.manifest import find
from confide_vault.bootstrap import caller_key
from nameko import config


@pytest.fixture
def audit_database(service_database):
    """The audit database as deployments make it; the service connects as its group role."""
    return service_database(find("audit"))


@pytest.fixture
def audit_db(audit_database):
    """An administrator's engine on it."""
    engine = create_engine(audit_database.admin_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def transit(service_transit):
    """The test's transit mount with the audit service's keys."""
    for key in (*find("audit").signing_keys, caller_key("audit")):
        service_transit.create_key(key, key_type="ed25519")
    return service_transit


@pytest.fixture
def audit_config(rabbit_config, audit_database, transit, vault_client):
    settings = {
        "DATABASE_URL": audit_database.service_url,
        "VAULT": vault_client,
        "TRANSIT_MOUNT": transit.mount,
        "AUDIT_PARTITIONS": 2,
        "AUDIT_BATCH_SIZE": 200,
        "AUDIT_FLUSH_MS": 20,
        "AUDIT_CHECKPOINT_EVERY": 50,
        "AUDIT_CHECKPOINT_SECONDS": 3600,
        "AUDIT_LOG_NAME": "confide.test/audit",
        "OUTBOX_POLL_SECONDS": 1,
    }
    with config.patch(settings):
        yield config


@pytest.fixture
def audit(audit_config, container_factory):
    container = container_factory(AuditService)
    container.start()
    return container


@pytest.fixture
def producer(database_with, audit_config):
    """Another service: its own database with an outbox, and its relay."""
    metadata = make_metadata()
    add_messaging_tables(metadata)
    producer = Producer(database_with(metadata, "producer"), audit_config["AMQP_URI"])
    yield producer
    producer.relay.publisher.close()
