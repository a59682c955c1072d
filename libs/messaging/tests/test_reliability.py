"""The reliability rules of DESIGN.md, shown through real nameko containers,
PostgreSQL and RabbitMQ."""

import json
import time

import messaging_sample as sample
import pytest
from confide_events import registry
from confide_messaging import OutboxRelay
from confide_messaging.dlq import list_dead_letters, replay
from confide_messaging.publisher import ConfirmingPublisher, OutgoingMessage, PublishFailed
from confide_messaging.tables import outbox_table
from confide_messaging.uow import UnitOfWork
from confide_testing import random_id, wait_until
from confide_testing.proxy import TcpProxy
from messaging_sample import count
from nameko import config
from nameko.standalone.rpc import ClusterRpcClient
from sqlalchemy import insert
from sqlalchemy.orm import Session


def lines(rpc, account_id=None):
    return rpc.statements.count_lines(account_id)


@pytest.fixture
def services(service_config, container_factory):
    ledger = container_factory(sample.LedgerService)
    statements = container_factory(sample.StatementsService)
    statements.start()
    ledger.start()
    with ClusterRpcClient() as rpc:
        yield rpc


def test_committed_event_is_published_and_handled_once(services, ledger_db):
    account = random_id("acct")
    services.ledger.open_account(account, "Ada")
    wait_until(lambda: lines(services, account) == 1, what="statement line")
    wait_until(lambda: count(ledger_db, outbox_table.select().where(outbox_table.c.sent_at.is_(None)).subquery()) == 0)
    time.sleep(0.3)
    assert lines(services, account) == 1


def test_rolled_back_event_is_never_published(services, ledger_db):
    account = random_id("acct")
    with pytest.raises(Exception, match="boom after the write"):
        services.ledger.open_account(account, "Ada", fail_after_write=True)
    assert count(ledger_db, outbox_table) == 0
    # a later committed event gets through, the rolled-back one never does
    other = random_id("acct")
    services.ledger.open_account(other, "Bea")
    wait_until(lambda: lines(services, other) == 1)
    assert lines(services, account) == 0


def test_relay_wakes_on_commit_not_on_poll(services):
    # OUTBOX_POLL_SECONDS is 30 in these tests: delivery within seconds means the commit woke it (the doorbell)
    account = random_id("acct")
    started = time.monotonic()
    services.ledger.open_account(account, "Ada")
    wait_until(lambda: lines(services, account) == 1, timeout=5)
    assert time.monotonic() - started < 5


def test_duplicate_delivery_has_its_effect_once(services, statements_db):
    from confide_testing import wait_for_handled

    event = registry.build(
        "ledger.account.opened", {"account_id": random_id("acct")}, producer="ledger", actor=sample.ACTOR
    )
    publisher = ConfirmingPublisher(config["AMQP_URI"])
    message = OutgoingMessage.for_event(event.to_message())
    publisher.publish([message, message])
    publisher.publish([message])
    publisher.close()
    account = event.payload["account_id"]
    wait_for_handled(statements_db, "statements.on_opened", event.id)
    assert lines(services, account) == 1
    time.sleep(0.5)
    assert lines(services, account) == 1


def test_failing_handler_ends_in_dead_letters_and_replay_delivers(services):
    sample.FAILURES["frozen"] = True
    account = random_id("acct")
    services.ledger.freeze(account)
    dead = "statements.on_frozen.dead"
    letters = wait_until(lambda: list_dead_letters(config["AMQP_URI"], dead), what="dead letter")
    assert len(letters) == 1
    assert letters[0].attempts == 3  # first try + two retries
    # a handler's error is named, not quoted: its text may hold what it was working on
    assert letters[0].error == "RuntimeError (text withheld)"
    assert json.loads(letters[0].body)["payload"]["account_id"] == account
    # listing leaves them in place
    assert len(list_dead_letters(config["AMQP_URI"], dead)) == 1
    assert lines(services, "frozen:" + account) == 0

    sample.FAILURES["frozen"] = False
    try:
        assert replay(config["AMQP_URI"], dead) == 1
        wait_until(lambda: lines(services, "frozen:" + account) == 1, what="replayed effect")
        assert list_dead_letters(config["AMQP_URI"], dead) == []
    finally:
        sample.FAILURES["frozen"] = True


def test_a_batch_of_publishes_reads_the_socket_only_to_await_its_confirms(rabbit_config, monkeypatch):
    """py-amqp tried a read before every publish (a sixth of the outbox relay's time), to see a "connection
    blocked" notice; the confirms awaited after the batch read whatever came."""
    import amqp

    reads = []
    drain = amqp.Connection.drain_events
    monkeypatch.setattr(amqp.Connection, "drain_events",
                        lambda self, timeout=None: reads.append(timeout) or drain(self, timeout=timeout))
    publisher = ConfirmingPublisher(config["AMQP_URI"])
    messages = [OutgoingMessage(routing_key="ledger.nobody.listens", body=b"{}") for _ in range(20)]
    try:
        assert publisher.publish(messages) == 20
    finally:
        publisher.close()
    assert 0 not in reads and reads, reads  # (each a confirm awaited, with time to wait)


def test_invalid_message_goes_straight_to_dead_letters(services):
    publisher = ConfirmingPublisher(config["AMQP_URI"])
    bad = {"type": "ledger.account.opened", "id": "not-a-uuid", "payload": {}}
    publisher.publish([
        OutgoingMessage(routing_key="ledger.account.opened", body=json.dumps(bad).encode()),
        OutgoingMessage(routing_key="ledger.account.opened", body=b"\x00 not json"),
    ])
    publisher.close()
    dead = "statements.on_opened.dead"
    letters = wait_until(lambda: len(list_dead_letters(config["AMQP_URI"], dead)) == 2 and
                         list_dead_letters(config["AMQP_URI"], dead), what="two dead letters")
    errors = sorted(letter.error for letter in letters)
    assert errors[0].startswith("InvalidEvent") and "id" in errors[0]
    assert errors[1].startswith("UndecodableBody: undecodable body")
    # and the handler is still consuming
    account = random_id("acct")
    services.ledger.open_account(account, "After Poison")
    wait_until(lambda: lines(services, account) == 1)


def test_event_committed_while_broker_unreachable_arrives_once(
    service_config, container_factory, ledger_db
):
    """The ledger is cut off from RabbitMQ (its relay and its consumers) by a
    proxy; an event committed meanwhile is published once the broker is back,
    and handled exactly once."""
    real_uri = config["AMQP_URI"]
    proxy = TcpProxy("127.0.0.1", 5672)
    try:
        statements = container_factory(sample.StatementsService)
        statements.start()
        with config.patch({"AMQP_URI": proxy.uri(real_uri)}):
            ledger = container_factory(sample.LedgerService)
            ledger.start()
        proxy.cut()
        account = random_id("acct")
        with Session(ledger_db) as session, session.begin():
            uow = UnitOfWork(session, "ledger", registry)
            session.execute(insert(sample.accounts).values(id=account, holder="Cut Off"))
            uow.emit("ledger.account.opened", {"account_id": account}, actor=sample.ACTOR)
        time.sleep(1.0)
        with ClusterRpcClient() as rpc:
            assert lines(rpc, account) == 0
            unsent = outbox_table.select().where(outbox_table.c.sent_at.is_(None)).subquery()
            assert count(ledger_db, unsent) == 1
            proxy.restore()
            wait_until(lambda: lines(rpc, account) == 1, timeout=30, what="event after reconnect")
            time.sleep(0.5)
            assert lines(rpc, account) == 1
    finally:
        proxy.close()


def test_relay_reports_unreachable_broker_and_keeps_rows(ledger_db, rabbit_config):
    proxy = TcpProxy("127.0.0.1", 5672)
    proxy.cut()
    relay = OutboxRelay(ledger_db, proxy.uri(config["AMQP_URI"]))
    with Session(ledger_db) as session, session.begin():
        UnitOfWork(session, "ledger", registry).emit(
            "ledger.account.opened", {"account_id": "x"}, actor=sample.ACTOR
        )
    with pytest.raises(PublishFailed):
        relay.publish_pending()
    assert relay.pending() == 1
    proxy.restore()
    assert relay.publish_pending() == 1
    assert relay.pending() == 0
    proxy.close()


def test_operators_list_and_replay_dead_letters_from_the_command_line(services, capsys):
    from confide_messaging.dlq import main

    sample.FAILURES["frozen"] = True
    account = random_id("acct")
    services.ledger.freeze(account)
    dead = "statements.on_frozen.dead"
    wait_until(lambda: list_dead_letters(config["AMQP_URI"], dead), what="dead letter")
    uri = ["--amqp-uri", config["AMQP_URI"]]

    def wait_for_depth():  # the management API's counts lag a moment behind
        assert main([*uri, "--json", "list"]) == 0
        return {q["queue"]: q["messages"] for q in json.loads(capsys.readouterr().out)}.get(dead) == 1
    wait_until(wait_for_depth, what="queue depth in the management API")

    assert main([*uri, "list", dead]) == 0
    out = capsys.readouterr().out
    assert "RuntimeError (text withheld)" in out and "1 dead letter(s)" in out

    assert main([*uri, "list", "statements.on_frozen"]) == 2  # not a dead-letter queue: a plain error
    assert "not a dead-letter queue" in capsys.readouterr().err

    sample.FAILURES["frozen"] = False
    try:
        assert main([*uri, "replay", dead, "--id", "no-such-message"]) == 0
        assert "replayed 0" in capsys.readouterr().out
        assert main([*uri, "replay", dead]) == 0
        assert "replayed 1" in capsys.readouterr().out
        wait_until(lambda: lines(services, "frozen:" + account) == 1, what="replayed effect")
    finally:
        sample.FAILURES["frozen"] = True
