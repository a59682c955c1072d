"""The relay's wake-up: a commit that wrote to the outbox rings its relay, in
place of NOTIFY (which serialized every such commit in PostgreSQL)."""

from confide_events import registry
from confide_messaging import UnitOfWork, doorbell
from messaging_sample import ACTOR
from sqlalchemy import text
from sqlalchemy.orm import Session


def write(engine, commit: bool, events: int = 1) -> None:
    with Session(engine) as session:
        session.begin()
        uow = UnitOfWork(session, "ledger", registry)
        for _ in range(events):
            uow.emit("ledger.account.opened", {"account_id": "a-1"}, actor=ACTOR)
        session.commit() if commit else session.rollback()


def test_a_commit_rings_its_databases_relays_and_a_rollback_does_not(ledger_db, statements_db):
    bell, other = doorbell.hang(ledger_db.url.database), doorbell.hang(statements_db.url.database)
    try:
        write(ledger_db, commit=False)
        assert not bell.is_set()
        write(ledger_db, commit=True, events=3)
        assert bell.is_set() and not other.is_set()  # (another database's relay sleeps on)
    finally:
        doorbell.take_down(ledger_db.url.database, bell)
        doorbell.take_down(statements_db.url.database, other)


def test_an_outbox_write_sends_no_notify(ledger_db):
    """NOTIFY takes a cluster-wide lock from commit to the end of its WAL flush: no write may send one."""
    with ledger_db.connect() as listener:
        raw = listener.connection.driver_connection
        raw.autocommit = True
        raw.execute("LISTEN confide_outbox")
        write(ledger_db, commit=True)
        assert list(raw.notifies(timeout=0.5, stop_after=1)) == []
        assert listener.execute(text("SELECT count(*) FROM outbox")).scalar_one() == 1


def test_a_savepoint_does_not_ring_only_the_commit_does(ledger_db):
    """A savepoint released inside the transaction is not the commit: the relay would find nothing yet."""
    bell = doorbell.hang(ledger_db.url.database)
    try:
        with Session(ledger_db) as session:
            session.begin()
            with session.begin_nested():
                UnitOfWork(session, "ledger", registry).emit("ledger.account.opened", {"account_id": "a-2"},
                                                             actor=ACTOR)
            assert not bell.is_set()
            session.commit()
        assert bell.is_set()
    finally:
        doorbell.take_down(ledger_db.url.database, bell)
