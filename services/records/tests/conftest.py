import pytest
from records_support import Clinic


@pytest.fixture
def records_service(running_service):
    return running_service("records")


@pytest.fixture
def records_db(records_service):
    """An administrator's engine on the service's database."""
    return records_service.engine


@pytest.fixture
def transit(records_service):
    return records_service.transit


@pytest.fixture
def records(rpc_client, records_service):
    with rpc_client() as client:
        yield client.records


@pytest.fixture
def clinic(records, records_db):
    """A site with staff and one client, with a primary clinician on the care team."""
    return Clinic(records, records_db)
