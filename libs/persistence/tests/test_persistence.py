from pathlib import Path

import eventlet
import pytest
from confide_persistence import Database, create_engine, upgrade
from confide_persistence.green import psycopg_wait_function
from confide_persistence.migrations import differences, heads
from confide_persistence.provider import ConfigurationError
from confide_testing import random_id
from nameko import config
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcClient
from persistence_sample import VERSION_TABLE, metadata, rooms
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

MIGRATIONS = Path(__file__).parent / "sample_migrations"


class SleeperService:
    name = "sleeper"
    db = Database()

    @rpc
    def nap(self, seconds: float) -> int:
        with self.db.transaction() as session:
            session.execute(text("SELECT pg_sleep(:s)"), {"s": seconds})
            return session.execute(text("SELECT pg_backend_pid()")).scalar_one()

    @rpc
    def add_room(self, room_id: str, name: str) -> None:
        with self.db.transaction() as session:
            session.execute(insert(rooms).values(id=room_id, name=name))


@pytest.fixture
def sample_db(migrated_database):
    return migrated_database(MIGRATIONS, "sample")


def test_psycopg_waits_cooperatively():
    assert psycopg_wait_function() == "wait_select"


def test_concurrent_workers_overlap_on_database_io(sample_db, rabbit_config, container_factory):
    """Guards the eventlet/psycopg choice: with psycopg's C wait function the
    workers would run one after another and only one pg_sleep would ever be
    seen at a time."""
    with config.patch({"DATABASE_URL": sample_db}):
        container = container_factory(SleeperService)
        container.start()
        observer = create_engine(sample_db)
        seen: list[int] = []

        def observe():
            for _ in range(30):
                with observer.connect() as conn:
                    seen.append(conn.execute(text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'"
                    )).scalar_one())
                eventlet.sleep(0.05)

        with ClusterRpcClient() as client:
            watcher = eventlet.spawn(observe)
            calls = [client.sleeper.nap.call_async(1.0) for _ in range(10)]
            pids = {call.result() for call in calls}
            watcher.wait()
        observer.dispose()
    assert max(seen) >= 8, f"at most {max(seen)} queries ran at once"
    assert len(pids) >= 8


def test_transaction_rolls_back_on_error(sample_db, rabbit_config, container_factory):
    with config.patch({"DATABASE_URL": sample_db}):
        container = container_factory(SleeperService)
        container.start()
        with ClusterRpcClient() as client:
            client.sleeper.add_room("r1", "Blue room")
            with pytest.raises(Exception, match=r"UniqueViolation|IntegrityError|duplicate"):
                client.sleeper.add_room("r2", "Blue room")
    engine = create_engine(sample_db)
    with engine.connect() as conn:
        assert conn.execute(select(rooms.c.id)).scalars().all() == ["r1"]
    engine.dispose()


def test_missing_setting_names_it(rabbit_config, container_factory):
    with config.patch({"DATABASE_URL": None}):
        container = container_factory(SleeperService)
        with pytest.raises(ConfigurationError, match="DATABASE_URL"):
            container.start()


def test_migrations_have_one_head_and_match_models(sample_db):
    assert heads(MIGRATIONS) == ["0001"]
    assert differences(sample_db, metadata, VERSION_TABLE) == []
    engine = create_engine(sample_db)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"rooms", "outbox", "inbox", VERSION_TABLE} <= tables


def test_migrating_twice_is_a_no_op(sample_db):
    upgrade(MIGRATIONS, sample_db)
    engine = create_engine(sample_db)
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one() == "0001"
    engine.dispose()


def test_a_drifted_model_is_detected(sample_db):
    from confide_persistence import make_metadata
    from sqlalchemy import Column, String, Table

    drifted = make_metadata()
    for table in metadata.tables.values():
        table.to_metadata(drifted)
    Table("extra", drifted, Column("id", String(10), primary_key=True))
    assert any(d[0] == "add_table" for d in differences(sample_db, drifted, VERSION_TABLE))


def test_only_postgres_is_accepted():
    with pytest.raises(ValueError, match="PostgreSQL"):
        create_engine("sqlite:///x.db")


def test_unique_names_follow_the_convention(sample_db):
    engine = create_engine(sample_db)
    with engine.begin() as conn:
        conn.execute(insert(rooms).values(id=random_id(), name="A"))
        with pytest.raises(IntegrityError, match="uq_rooms_name"):
            with conn.begin_nested():
                conn.execute(insert(rooms).values(id=random_id(), name="A"))
    engine.dispose()


def test_a_kill_hidden_behind_a_rollback_error_is_still_a_kill():
    from confide_persistence.green import killed
    from greenlet import GreenletExit

    def rollback_after(exc):  # what SQLAlchemy does when the rollback after an error fails too
        try:
            raise exc
        except BaseException:  # noqa: BLE001 - any error, a kill included
            try:
                raise RuntimeError("sending query failed: another command is already in progress")
            except RuntimeError as second:
                raise ValueError("rollback failed") from second

    try:
        rollback_after(GreenletExit())
    except ValueError as hidden:
        assert killed(hidden)
    try:
        rollback_after(OSError("connection reset"))
    except ValueError as plain:
        assert not killed(plain)
