import pytest
from messaging_sample import ledger_metadata, statements_metadata
from nameko import config


@pytest.fixture
def ledger_db(database_with):
    return database_with(ledger_metadata, "ledger")


@pytest.fixture
def statements_db(database_with):
    return database_with(statements_metadata, "statements")


@pytest.fixture
def service_config(rabbit_config, ledger_db, statements_db):
    settings = {
        "LEDGER_DATABASE_URL": ledger_db.url.render_as_string(hide_password=False),
        "STATEMENTS_DATABASE_URL": statements_db.url.render_as_string(hide_password=False),
        "OUTBOX_POLL_SECONDS": 30,
    }
    with config.patch(settings):
        yield config
