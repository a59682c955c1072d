"""Every installed service: its migrations build exactly the tables its models
describe (no drift), from an empty database."""

import importlib

import pytest
from confide_persistence.migrations import differences, heads
from confide_runtime.manifest import discover

SERVICES = discover()


@pytest.mark.parametrize("manifest", SERVICES, ids=[m.name for m in SERVICES])
def test_migrations_match_the_models(manifest, migrated_database):
    models = importlib.import_module(manifest.service.split(":")[0].rsplit(".", 1)[0] + ".models")
    url = migrated_database(manifest.migrations_path(), manifest.name)
    assert len(heads(manifest.migrations_path())) == 1
    assert differences(url, models.metadata, models.VERSION_TABLE) == []


def test_every_service_is_here():
    assert {m.name for m in SERVICES} >= {"audit", "billing", "credentialing", "gateway", "records", "scheduling"}
