import pytest
from stack_support import SERVICES, start_stack


@pytest.fixture
def stack(running_service, tmp_path):
    """All five services and the gateway: an :class:`stack_support.Api`."""
    api, engines = start_stack(SERVICES, running_service, tmp_path)
    api.engines = engines  # an administrator's engine on each service's database
    yield api
    api.close()
