import pytest
from confide_persistence import create_engine
from confide_records.service import RecordsService
from confide_vault import Transit
from nameko import config
from nameko.standalone.rpc import ClusterRpcClient
from records_support import MIGRATIONS, Clinic


@pytest.fixture
def records_db(migrated_database):
    url = migrated_database(MIGRATIONS, "records")
    engine = create_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def transit(vault_client, vault_mount):
    transit = Transit(vault_client, vault_mount("transit"))
    transit.create_key("record-notes")
    transit.create_key("psychotherapy-notes")
    return transit


@pytest.fixture
def records_config(rabbit_config, records_db, transit, vault_client):
    settings = {
        "DATABASE_URL": records_db.url.render_as_string(hide_password=False),
        "VAULT": vault_client,
        "TRANSIT_MOUNT": transit.mount,
        "OUTBOX_POLL_SECONDS": 1,
    }
    with config.patch(settings):
        yield config


@pytest.fixture
def records(records_config, container_factory):
    container = container_factory(RecordsService)
    container.start()
    with ClusterRpcClient() as client:
        yield client.records


@pytest.fixture
def clinic(records, records_db):
    """A site with staff and one client, with a primary clinician on the care team."""
    return Clinic(records, records_db)
