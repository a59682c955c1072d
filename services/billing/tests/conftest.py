from pathlib import Path

import pytest
from confide_billing.service import BillingService
from confide_persistence import create_engine
from nameko import config
from nameko.standalone.rpc import ClusterRpcClient

MIGRATIONS = Path(__file__).parents[1] / "src" / "confide_billing" / "migrations"


@pytest.fixture
def billing_db(migrated_database):
    engine = create_engine(migrated_database(MIGRATIONS, "billing"))
    yield engine
    engine.dispose()


@pytest.fixture
def billing_config(rabbit_config, billing_db):
    with config.patch({"DATABASE_URL": billing_db.url.render_as_string(hide_password=False),
                       "OUTBOX_POLL_SECONDS": 1}):
        yield config


@pytest.fixture
def rpc(billing_config, container_factory):
    container_factory(BillingService).start()
    with ClusterRpcClient() as client:
        yield client.billing
