"""Fixtures for every test in the repository (see confide_testing.plugin)."""

import pytest


@pytest.fixture
def container_factory(graceful_container_factory, rabbit_config):
    """Containers are stopped, not killed, when a test ends."""
    return graceful_container_factory


def pytest_ignore_collect(collection_path, config):
    """The browser tests (tests/browser) run in a pytest of their own, without
    eventlet, which Playwright cannot run under: ``pytest -p no:confide tests/browser``
    (``make test`` runs both)."""
    if collection_path.name == "browser" and collection_path.parent.name == "tests":
        from eventlet import patcher

        return patcher.is_monkey_patched("socket") or None
    return None
