"""``uow.batched()``: a list's access events validated one by one as they are
emitted and written to the outbox together in one statement -- and none of them
when the block fails, so a savepoint around it cannot keep an event whose
change it rolled back."""

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
            pytest.fail("a bad event must raise where it is emitted")
        assert "payload.account_id" in refused.value.errors
        opened(uow, "a-2")
    assert outbox(ledger_db) == ["a-2"]  # (the refused block wrote nothing, not even its good event)


def test_a_block_rolled_back_in_its_savepoint_leaves_no_event_behind(ledger_db):
    """As a waitlist pass-on in its own savepoint: one that fails must not leave its events to be written later."""
    with Session(ledger_db) as session, session.begin():
        uow = UnitOfWork(session, "ledger", registry)
        with uow.batched():
            opened(uow, "kept-1")
            try:
                with session.begin_nested(), uow.batched():
                    opened(uow, "rolled-back")
                    raise RuntimeError("this pass-on failed")
            except RuntimeError:
                pass
            opened(uow, "kept-2")
        assert [e.payload["account_id"] for e in uow.events] == ["kept-1", "kept-2"]
    assert outbox(ledger_db) == ["kept-1", "kept-2"]


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
