import pytest


@pytest.fixture
def billing(running_service):
    return running_service("billing")


@pytest.fixture
def billing_db(billing):
    """An administrator's engine on the service's database."""
    return billing.engine


@pytest.fixture
def rpc(rpc_client, billing):
    with rpc_client() as client:
        yield client.billing
