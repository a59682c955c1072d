"""``uow.batched()``: a list's access events validated one by one as they are
emitted and written to the outbox together in one statement -- and none of them
when the block fails, so a savepoint around it cannot keep an event whose
change it rolled back; a savepoint begun inside it is refused."""

import pytest
from confide_events import InvalidEvent, registry
from confide_messaging import UnitOfWork
from messaging_sample import ACTOR, accounts
from sqlalchemy import event, insert, text
from sqlalchemy.orm import Session


def outbox(engine) -> list[str]:
    with engine.connect() as conn:
        return [m["payload"]["account_id"] for m in conn.execute(text("SELECT message FROM outbox ORDER BY seq"))
                .scalars()]


def opened(uow: UnitOfWork, *accounts: str) -> None:
    for account in accounts:
        uow.emit("ledger.account.opened", {"account_id": account}, actor=ACTOR)


class Inserts:
    """How many statements wrote to the outbox while counting."""

    def __init__(self, engine) -> None:
        self.engine, self.count = engine, 0

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            self.count += len(parameters) if executemany else 1  # (executemany: a statement per row)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def test_a_batch_is_written_in_one_statement_in_the_order_emitted(ledger_db):
    with Session(ledger_db) as session, session.begin(), Inserts(ledger_db) as inserts:
        uow = UnitOfWork(session, "ledger", registry)
        with uow.batched():
            opened(uow, *(f"a-{n}" for n in range(40)))
            assert inserts.count == 0  # (not yet: when the block ends)
        assert inserts.count == 1
        opened(uow, "after")  # outside a block: written at once, as ever
        assert inserts.count == 2
        assert [e.payload["account_id"] for e in uow.events] == [*(f"a-{n}" for n in range(40)), "after"]
    assert outbox(ledger_db) == [*(f"a-{n}" for n in range(40)), "after"]


def test_a_bad_event_in_a_batch_is_refused_where_it_is_emitted_naming_the_field(ledger_db):
    with Session(ledger_db) as session, session.begin():
        uow = UnitOfWork(session, "ledger", registry)
        with pytest.raises(InvalidEvent) as refused, uow.batched():
            opened(uow, "a-1")
            uow.emit("ledger.account.opened", {"account_id": 7}, actor=ACTOR)
        assert "payload.account_id" in refused.value.errors
        opened(uow, "a-2")
    assert outbox(ledger_db) == ["a-2"]  # (the refused block wrote nothing, not even its good event)


class PassOnFailed(Exception):
    pass


def test_a_block_rolled_back_in_its_savepoint_leaves_no_event_behind(ledger_db):
    """As the waitlist's pass-ons, each in a savepoint of its own: one that fails leaves neither its change
    nor its events; the next is kept whole."""
    with Session(ledger_db) as session, session.begin():
        uow = UnitOfWork(session, "ledger", registry)
        for account, fails in (("rolled-back", True), ("kept", False)):
            try:
                with session.begin_nested(), uow.batched():
                    session.execute(insert(accounts).values(id=account, holder="x"))
                    opened(uow, account)
                    if fails:
                        raise PassOnFailed(account)
            except PassOnFailed:
                pass
        assert [e.payload["account_id"] for e in uow.events] == ["kept"]
    assert outbox(ledger_db) == ["kept"]
    with ledger_db.connect() as conn:
        assert conn.execute(text("SELECT id FROM accounts")).scalars().all() == ["kept"]


def test_a_block_inside_another_is_written_with_it_or_not_at_all(ledger_db):
    with Session(ledger_db) as session, session.begin():
        uow = UnitOfWork(session, "ledger", registry)
        with uow.batched():
            opened(uow, "outer-1")
            with uow.batched():
                opened(uow, "inner-kept")
            with pytest.raises(PassOnFailed), uow.batched():
                opened(uow, "inner-dropped")
                raise PassOnFailed("the inner block failed")
            opened(uow, "outer-2")
            assert session.execute(text("SELECT count(*) FROM outbox")).scalar() == 0  # (when the outer ends)
    assert outbox(ledger_db) == ["outer-1", "inner-kept", "outer-2"]


def test_a_transaction_that_fails_after_its_batch_commits_none_of_it(ledger_db):
    with pytest.raises(RuntimeError), Session(ledger_db) as session, session.begin():
        uow = UnitOfWork(session, "ledger", registry)
        with uow.batched():
            opened(uow, "a-1", "a-2")
        raise RuntimeError("the read failed after recording")
    assert outbox(ledger_db) == []


def test_a_savepoint_begun_inside_a_batch_is_refused(ledger_db):
    """Its events would be written when the block ends, and one the savepoint rolled back kept."""
    with Session(ledger_db) as session, session.begin():
        uow = UnitOfWork(session, "ledger", registry)
        with pytest.raises(RuntimeError, match=r"savepoint begun inside uow\.batched"), uow.batched():
            opened(uow, "a-1")
            with session.begin_nested():  # (begun when its first statement runs)
                session.execute(insert(accounts).values(id="a-9", holder="x"))
                opened(uow, "inside")
        with session.begin_nested():  # (after the block: as ever)
            session.execute(insert(accounts).values(id="a-2", holder="x"))
            opened(uow, "a-2")
    assert outbox(ledger_db) == ["a-2"]


AWKWARD = ['say "hi"', "back\\slash", "{a,b}", "NULL", "Zoë Åström 日本 🙂", "tab\there\nnewline", "'quoted'", ""]


def test_the_outbox_keeps_each_message_as_it_was_emitted(ledger_db):
    """The batch reaches the database as one JSON document: every message comes
    back as it was, id and type columns included, whatever its text holds."""
    with Session(ledger_db) as session, session.begin():
        uow = UnitOfWork(session, "ledger", registry)
        with uow.batched():
            opened(uow, *AWKWARD)
        opened(uow, AWKWARD[0])  # (and one alone)
        emitted = [(str(e.id), e.type, e.message) for e in uow.events]
    with ledger_db.connect() as conn:
        stored = [(str(id_), type_, message) for id_, type_, message in
                  conn.execute(text("SELECT id, type, message FROM outbox ORDER BY seq"))]
    assert stored == emitted
