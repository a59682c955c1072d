import pytest


@pytest.fixture
def start_credentialing(running_service):
    """Start credentialing; called again, another replica on the same database."""
    started = []

    def start():
        started.append(running_service("credentialing", replica_of=started[0] if started else None))
        return started[-1].container

    start.started = started
    return start


@pytest.fixture
def cred(rpc_client, start_credentialing):
    start_credentialing()
    with rpc_client() as client:
        yield client.credentialing


@pytest.fixture
def cred_db(cred, start_credentialing):
    """An administrator's engine on the service's database."""
    return start_credentialing.started[0].engine
