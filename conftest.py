"""Fixtures for every test in the repository (see confide_testing.plugin)."""

import pytest


@pytest.fixture
def container_factory(graceful_container_factory, rabbit_config):
    """Containers are stopped, not killed, when a test ends."""
    return graceful_container_factory
