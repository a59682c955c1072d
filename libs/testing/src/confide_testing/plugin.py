"""pytest plugin (entry point ``confide``), loaded for every test run.

Fixtures:
- ``database_factory``: make throwaway databases (dropped after the run).
- ``migrated_database``: a fresh database built by a service's own migrations.
- ``database_with``: a fresh database with a ``MetaData``'s tables (library tests).
- ``rabbit_config`` (from nameko): the test's own RabbitMQ vhost in nameko config.
- ``dev_vault`` / ``vault_client``: an OpenBao dev server for this run.
- ``vault_mount``: a randomly named mount of a secrets engine, removed after the test.
- ``service_database``: a service's database as deployments make it (owner, group
  role, the manifest's grants), dropped after the test.
- ``running_service``: ``running_service("records", **settings)`` starts a service
  from its manifest on such a database, connected as its own group role, with its
  Vault keys on a fresh transit mount (see ``confide_testing.services``).
- ``rpc_client``: ``with rpc_client() as rpc:`` calls services as the gateway
  does, the caller signed into an assertion (``caller_signer``).
"""

from __future__ import annotations

import os

import pytest

ADMIN_URL_ENV = "CONFIDE_TEST_DATABASE_URL"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # Before any test module imports psycopg, kombu or socket users.
    from confide_persistence.green import patch

    patch()


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a fault-injection or soak test")
    config.addinivalue_line("markers", "unit: a pure test: no PostgreSQL, RabbitMQ or OpenBao (make test-unit)")


@pytest.fixture(scope="session")
def database_factory():
    from confide_testing.databases import DatabaseFactory

    factory = DatabaseFactory(os.environ.get(ADMIN_URL_ENV, DEFAULT_ADMIN_URL))
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def migrated_database(database_factory):
    """``migrated_database(script_location, prefix)`` -> URL of a fresh, migrated database."""
    from confide_persistence import upgrade

    def make(script_location, prefix: str = "confide_test") -> str:
        url = database_factory.create(prefix)
        upgrade(script_location, url)
        return url

    return make


@pytest.fixture
def database_with(database_factory):
    """``database_with(metadata, prefix)`` -> an engine on a fresh database whose
    tables are ``metadata``'s (for library tests; services use their migrations)."""
    from confide_persistence import create_engine

    engines = []

    def make(metadata, prefix: str = "confide_test"):
        engine = create_engine(database_factory.create(prefix))
        metadata.create_all(engine)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


def stop_gracefully(container, timeout: float = 15.0) -> None:
    """Stop a nameko container as a deployment would (workers finish, consumers
    and relays stop), and kill it only if that takes longer than ``timeout``.
    nameko's own fixture kills every container, which throws GreenletExit into
    greenlets in the middle of a database call; we stop them instead."""
    import eventlet

    try:
        with eventlet.Timeout(timeout):
            container.stop()
    except eventlet.Timeout:
        container.kill()


@pytest.fixture
def graceful_container_factory():
    """nameko's ``container_factory``, stopping the containers at the end instead
    of killing them (the root ``conftest.py`` installs it under that name)."""
    import nameko
    from nameko.containers import get_container_cls

    made = []

    def make(service_cls, config=None):
        patch = nameko.config.patch(config) if config else None
        if patch:
            patch.start()
        container = get_container_cls()(service_cls)
        made.append((container, patch))
        return container

    yield make
    for container, patch in reversed(made):
        try:
            stop_gracefully(container)
        except Exception:  # noqa: BLE001 - a container that fails to stop must not hide the test's result
            container.kill()
        if patch:
            patch.stop()


@pytest.fixture(autouse=True)
def one_broker_login():
    """A test run's services and producers share one broker login (the vhost's),
    so an event's producer maps to that user (``confide_messaging.provenance``);
    a test that gives each service its own login sets ``BROKER_PRODUCER_USER``
    back to ``confide-{producer}`` in its services' settings."""
    from nameko import config

    with config.patch({"BROKER_PRODUCER_USER": "guest"}):
        yield


@pytest.fixture(scope="session")
def dev_vault():
    from confide_testing.vault import DevVault

    vault = DevVault().start()
    yield vault
    vault.stop()


@pytest.fixture
def vault_client(dev_vault):
    from confide_vault import VaultClient

    return VaultClient(dev_vault.addr, token=dev_vault.token, ca_cert=dev_vault.ca)


@pytest.fixture
def vault_mount(vault_client):
    """``vault_mount("transit")`` -> the path of a fresh mount, disabled after the test."""
    from confide_testing.helpers import random_id

    mounted: list[str] = []

    def mount(kind: str) -> str:
        path = random_id(kind).replace("-", "_")
        vault_client.hvac.sys.enable_secrets_engine(backend_type=kind, path=path)
        mounted.append(path)
        return path

    yield mount
    for path in mounted:
        vault_client.hvac.sys.disable_secrets_engine(path)


@pytest.fixture
def service_database():
    """``service_database(manifest)`` -> a :class:`confide_testing.services.ServiceDatabase`, migrated."""
    from confide_testing.services import ServiceDatabase

    made: list[ServiceDatabase] = []

    def make(manifest):
        database = ServiceDatabase(os.environ.get(ADMIN_URL_ENV, DEFAULT_ADMIN_URL), manifest)
        made.append(database)
        return database.create()

    yield make
    for database in made:
        database.drop()


@pytest.fixture
def service_transit(vault_client, vault_mount):
    """The transit mount a test's services share (each with its own keys), holding
    the gateway's caller key: tests call services as the gateway does."""
    from confide_vault import Transit
    from confide_vault.bootstrap import caller_key

    transit = Transit(vault_client, vault_mount("transit"))
    transit.create_key(caller_key("gateway"), key_type="ed25519")
    return transit


@pytest.fixture
def caller_signer(service_transit):
    """Signs caller assertions as the gateway, for the test's services to verify."""
    from confide_access.assertions import GATEWAY, CallerSigner

    return CallerSigner(service_transit, GATEWAY)


@pytest.fixture
def rpc_client(rabbit_config, caller_signer):
    """``with rpc_client() as rpc: rpc.records.get_client(caller(...), ...)``:
    nameko's cluster client, each call carrying the caller (its first argument)
    as an assertion signed for the service called, as the gateway sends it."""
    import contextlib

    from confide_access.assertions import signing
    from nameko.standalone.rpc import ClusterRpcClient

    @contextlib.contextmanager
    def client(**options):
        with ClusterRpcClient(**options) as proxy:
            yield signing(proxy, caller_signer)

    return client


@pytest.fixture
def running_service(rabbit_config, service_database, vault_client, service_transit, container_factory):
    """``running_service(name, **settings)`` -> a started
    :class:`confide_testing.services.RunningService`: the service of that name, as
    its manifest describes it, with its production database privileges, its
    Vault keys (and caller key) on the test's transit mount."""
    import nameko
    from confide_persistence import create_engine
    from confide_runtime.manifest import find
    from confide_vault.bootstrap import caller_key

    from confide_testing.services import RunningService

    patches, engines, containers = [], [], []

    def start(name, replica_of: RunningService | None = None, **settings) -> RunningService:
        manifest = find(name) if isinstance(name, str) else name  # a name, or a manifest itself
        if replica_of is not None:  # another instance on the same database, as a second replica
            return _run(manifest, replica_of.database, replica_of.settings)
        database = service_database(manifest)
        for key in manifest.encryption_keys:
            service_transit.create_key(key)
        for key in (*manifest.signing_keys, caller_key(manifest.name)):
            service_transit.create_key(key, key_type="ed25519")
        values = {**manifest.config, "DATABASE_URL": database.service_url, "VAULT": vault_client,
                  "OUTBOX_POLL_SECONDS": 1, "TRANSIT_MOUNT": service_transit.mount, **settings}
        return _run(manifest, database, values)

    def _run(manifest, database, values) -> RunningService:
        patch = nameko.config.patch(values)
        patch.start()
        patches.append(patch)
        container = container_factory(manifest.service_class())
        container.start()
        containers.append(container)
        engine = create_engine(database.admin_database_url)
        engines.append(engine)
        return RunningService(manifest.name, container, database, engine, service_transit, values)

    yield start
    for container in reversed(containers):  # while their settings are still in place
        stop_gracefully(container)
    for engine in engines:
        engine.dispose()
    for patch in reversed(patches):
        patch.stop()
