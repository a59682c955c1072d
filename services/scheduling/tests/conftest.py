from pathlib import Path

import pytest
from confide_persistence import create_engine
from confide_scheduling.service import SchedulingService
from nameko import config
from nameko.standalone.rpc import ClusterRpcClient
from sched_support import Network

MIGRATIONS = Path(__file__).parents[1] / "src" / "confide_scheduling" / "migrations"


@pytest.fixture
def sched_db(migrated_database):
    engine = create_engine(migrated_database(MIGRATIONS, "scheduling"))
    yield engine
    engine.dispose()


@pytest.fixture
def sched_config(rabbit_config, sched_db):
    with config.patch({"DATABASE_URL": sched_db.url.render_as_string(hide_password=False),
                       "OUTBOX_POLL_SECONDS": 1}):
        yield config


@pytest.fixture
def rpc(sched_config, container_factory):
    container_factory(SchedulingService).start()
    with ClusterRpcClient() as client:
        yield client


@pytest.fixture
def network(rpc, sched_db):
    return Network(rpc, sched_db)
