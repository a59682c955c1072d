"""The supervision projection, once for records, scheduling and billing: the same
shape everywhere (billing used to drop the jurisdiction, records to keep only the
end date of an ended supervision), and an upsert that events in any order leave
right."""

import importlib

import pytest
from confide_contracts.projections import apply_supervision, supervisions_table
from confide_persistence import make_metadata
from sqlalchemy import select

STARTED = {"supervision_id": "sup-1", "supervisor_id": "dr-lee", "supervisee_id": "dr-okafor",
           "jurisdiction": "US-NY", "starts_on": "2026-01-01", "ends_on": None}
ENDED = {**STARTED, "ends_on": "2026-06-30"}


def shape(table):
    return [(c.name, str(c.type), c.nullable, c.primary_key) for c in table.columns], \
        sorted(tuple(c.name for c in i.columns) for i in table.indexes)


@pytest.mark.unit
def test_every_consumer_keeps_the_same_shape():
    shapes = {name: shape(importlib.import_module(f"confide_{name}.models").supervisions)
              for name in ("records", "scheduling", "billing")}
    assert shapes["records"] == shapes["scheduling"] == shapes["billing"]
    assert "jurisdiction" in [c[0] for c in shapes["billing"][0]]


@pytest.fixture
def table(database_with):
    metadata = make_metadata()
    table = supervisions_table(metadata)
    return database_with(metadata, "projection"), table


def rows(engine, table):
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table))]


def test_an_ended_supervision_keeps_every_fact(table):
    engine, supervisions = table
    with engine.begin() as conn:
        apply_supervision(conn, supervisions, STARTED)
        apply_supervision(conn, supervisions, ENDED)
    [row] = rows(engine, supervisions)
    assert (row["jurisdiction"], str(row["starts_on"]), str(row["ends_on"])) == ("US-NY", "2026-01-01", "2026-06-30")


def test_a_late_start_does_not_reopen_an_ended_supervision(table):
    engine, supervisions = table
    with engine.begin() as conn:
        apply_supervision(conn, supervisions, ENDED)  # redelivered out of order
        apply_supervision(conn, supervisions, STARTED)
    [row] = rows(engine, supervisions)
    assert str(row["ends_on"]) == "2026-06-30" and row["supervisor_id"] == "dr-lee"
