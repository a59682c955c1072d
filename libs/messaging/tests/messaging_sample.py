"""Two small services used to test the messaging library through real nameko
containers, PostgreSQL and RabbitMQ: ``ledger`` opens accounts and emits
``ledger.account.opened``; ``statements`` keeps a projection of them."""

from __future__ import annotations

from confide_events import Actor, registry
from confide_messaging import OutboxRelayRunner, UnitOfWorkProvider, add_messaging_tables, handles
from confide_persistence import make_metadata
from marshmallow import Schema, fields
from nameko.rpc import RpcProxy, rpc
from sqlalchemy import Column, DateTime, Integer, String, Table, func, insert, select

ledger_metadata = make_metadata()
accounts = Table(
    "accounts", ledger_metadata,
    Column("id", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
)
add_messaging_tables(ledger_metadata)

statements_metadata = make_metadata()
statement_lines = Table(
    "statement_lines", statements_metadata,
    Column("line", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), server_default=func.now()),
)
add_messaging_tables(statements_metadata)


@registry.event_type("ledger.account.opened", version=1)
class AccountOpenedV1(Schema):
    account_id = fields.String(required=True)


@registry.event_type("ledger.account.frozen", version=1)
class AccountFrozenV1(Schema):
    account_id = fields.String(required=True)


ACTOR = Actor(id="clerk-1", role="admin")

# Tests flip this to make ``on_frozen`` fail or succeed.
FAILURES = {"frozen": True}


class LedgerService:
    name = "ledger"
    uow = UnitOfWorkProvider(url_key="LEDGER_DATABASE_URL")
    relay = OutboxRelayRunner(url_key="LEDGER_DATABASE_URL")
    statements = RpcProxy("statements")

    @rpc
    def open_account(self, account_id: str, holder: str, fail_after_write: bool = False) -> str:
        with self.uow() as uow:
            uow.session.execute(insert(accounts).values(id=account_id, holder=holder))
            uow.emit("ledger.account.opened", {"account_id": account_id}, actor=ACTOR, site_id="site-a")
            if fail_after_write:
                raise RuntimeError("boom after the write")
        return account_id

    @rpc
    def freeze(self, account_id: str) -> None:
        with self.uow() as uow:
            uow.emit("ledger.account.frozen", {"account_id": account_id}, actor=ACTOR)

    @rpc
    def open_and_count(self, account_id: str) -> int:
        self.open_account(account_id, "nested")
        return self.statements.count_lines()


class StatementsService:
    name = "statements"
    uow = UnitOfWorkProvider(url_key="STATEMENTS_DATABASE_URL")

    @handles("ledger.account.opened")
    def on_opened(self, event):
        with self.uow(handling=event) as uow:
            uow.session.execute(insert(statement_lines).values(account_id=event.payload["account_id"]))

    @handles("ledger.account.frozen", retry_delays_ms=(50, 100))
    def on_frozen(self, event):
        with self.uow(handling=event) as uow:
            if FAILURES["frozen"]:
                raise RuntimeError("statements cannot freeze yet")
            uow.session.execute(insert(statement_lines).values(account_id="frozen:" + event.payload["account_id"]))

    @rpc
    def count_lines(self, account_id: str | None = None) -> int:
        with self.uow() as uow:
            query = select(func.count()).select_from(statement_lines)
            if account_id is not None:
                query = query.where(statement_lines.c.account_id == account_id)
            return uow.session.execute(query).scalar_one()


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()
