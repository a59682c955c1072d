import pytest
from stack_support import SERVICES, start_stack


@pytest.fixture
def stack(rabbit_config, migrated_database, vault_client, vault_mount, container_factory, tmp_path):
    """All five services and the gateway: an :class:`stack_support.Api`."""
    api, engines = start_stack(SERVICES, migrated_database, vault_client, vault_mount, container_factory, tmp_path)
    yield api
    api.close()
    for engine in engines.values():
        engine.dispose()
