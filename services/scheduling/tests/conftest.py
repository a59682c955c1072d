import pytest
from sched_support import Network


@pytest.fixture
def scheduling(running_service):
    return running_service("scheduling")


@pytest.fixture
def sched_db(scheduling):
    """An administrator's engine on the service's database."""
    return scheduling.engine


@pytest.fixture
def rpc(rpc_client, scheduling):
    with rpc_client() as client:
        yield client


@pytest.fixture
def network(rpc, sched_db):
    return Network(rpc, sched_db)
