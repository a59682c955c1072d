from pathlib import Path

import pytest
from confide_credentialing.service import CredentialingService
from confide_persistence import create_engine
from nameko import config
from nameko.standalone.rpc import ClusterRpcClient

MIGRATIONS = Path(__file__).parents[1] / "src" / "confide_credentialing" / "migrations"


@pytest.fixture
def cred_db(migrated_database):
    engine = create_engine(migrated_database(MIGRATIONS, "credentialing"))
    yield engine
    engine.dispose()


@pytest.fixture
def cred_config(rabbit_config, cred_db):
    with config.patch({"DATABASE_URL": cred_db.url.render_as_string(hide_password=False),
                       "OUTBOX_POLL_SECONDS": 1}):
        yield config


@pytest.fixture
def start_credentialing(cred_config, container_factory):
    def start():
        container = container_factory(CredentialingService)
        container.start()
        return container

    return start


@pytest.fixture
def cred(start_credentialing):
    start_credentialing()
    with ClusterRpcClient() as client:
        yield client.credentialing
