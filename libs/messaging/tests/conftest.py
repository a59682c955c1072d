import pytest
from confide_persistence import create_engine
from messaging_sample import ledger_metadata, statements_metadata
from nameko import config


@pytest.fixture
def ledger_db(database_factory):
    url = database_factory.create("ledger")
    engine = create_engine(url)
    ledger_metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def statements_db(database_factory):
    url = database_factory.create("statements")
    engine = create_engine(url)
    statements_metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def service_config(rabbit_config, ledger_db, statements_db):
    settings = {
        "LEDGER_DATABASE_URL": ledger_db.url.render_as_string(hide_password=False),
        "STATEMENTS_DATABASE_URL": statements_db.url.render_as_string(hide_password=False),
        "OUTBOX_POLL_SECONDS": 30,
    }
    with config.patch(settings):
        yield config
