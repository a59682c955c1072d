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


def test_a_deployment_waits_until_its_database_is_at_head(migrated_database, database_factory):
    """What `confide-migrate NAME --wait` (a Deployment's init container) checks."""
    from confide_runtime.provision import pending

    records = next(m for m in SERVICES if m.name == "records")
    empty = database_factory.create("unmigrated")
    try:
        assert pending(records, empty) == heads(records.migrations_path())
    finally:
        database_factory.drop(empty.rsplit("/", 1)[1])
    assert pending(records, migrated_database(records.migrations_path(), "records")) == []
