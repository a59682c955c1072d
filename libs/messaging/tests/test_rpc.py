"""``confide_messaging.rpc``: nameko's RPC without the per-call reply-queue
declare and without persisting requests and replies -- and with nameko's
guarantees kept (an unknown service fails at once, errors travel back)."""

from __future__ import annotations

import kombu.common
import pytest
from confide_messaging import rpc as confide_rpc
from nameko import rpc as nameko_rpc
from nameko.exceptions import RemoteError, UnknownService
from nameko.testing.services import dummy, entrypoint_hook


class Answering:
    name = "answering"

    @confide_rpc.rpc
    def echo(self, value):
        return value

    @confide_rpc.rpc
    def fail(self):
        raise ValueError("no")


def asking(client_class):
    class Asking:
        name = "asking"
        rpc = client_class()

        @dummy
        def ask(self, service, method, *args):
            return getattr(getattr(self.rpc, service), method)(*args)

    return Asking


@pytest.fixture
def declares(monkeypatch):
    """Every entity kombu declares before a publish (its ``maybe_declare``)."""
    seen = []
    original = kombu.common.maybe_declare

    def spy(entity, *args, **kwargs):
        seen.append(getattr(entity, "name", entity))
        return original(entity, *args, **kwargs)

    monkeypatch.setattr(kombu.messaging, "maybe_declare", spy)
    return seen


def _ask(container_factory, client_class, *call):
    answering = container_factory(Answering)
    answering.start()
    container = container_factory(asking(client_class))
    container.start()
    with entrypoint_hook(container, "ask") as ask:
        return [ask(*call) for _ in range(5)]


def test_a_round_trip_declares_no_reply_queue(rabbit_config, container_factory, declares):
    assert _ask(container_factory, confide_rpc.ClusterRpc, "answering", "echo", {"a": 1}) == [{"a": 1}] * 5
    assert not [name for name in declares if str(name).startswith("rpc.reply-")]


def test_nameko_as_it_comes_declares_it_on_every_call(rabbit_config, container_factory, declares):
    """What the check above would catch: the stock client declares its reply queue each time."""
    _ask(container_factory, nameko_rpc.ClusterRpc, "answering", "echo", 1)
    assert len([name for name in declares if str(name).startswith("rpc.reply-")]) == 5


def test_requests_and_replies_are_not_persisted(rabbit_config, container_factory, monkeypatch):
    import amqp

    modes = []
    original = amqp.Channel._basic_publish

    def spy(self, message, *args, **kwargs):
        modes.append(message.properties.get("delivery_mode"))
        return original(self, message, *args, **kwargs)

    # (kombu's producers publish through _basic_publish; the reply channel, not in kombu's confirm mode, through
    # basic_publish, which is the same function)
    monkeypatch.setattr(amqp.Channel, "_basic_publish", spy)
    monkeypatch.setattr(amqp.Channel, "basic_publish", spy)
    _ask(container_factory, confide_rpc.ClusterRpc, "answering", "echo", 1)
    assert len(modes) == 10 and set(modes) == {1}, modes  # 5 requests and 5 replies, all transient


def test_an_unknown_service_still_fails_at_once(rabbit_config, container_factory):
    with pytest.raises(UnknownService):
        _ask(container_factory, confide_rpc.ClusterRpc, "nobody_serves_this", "echo", 1)


def test_an_error_still_travels_back(rabbit_config, container_factory):
    with pytest.raises(RemoteError, match="ValueError"):
        _ask(container_factory, confide_rpc.ClusterRpc, "answering", "fail")


def test_a_client_of_one_service(rabbit_config, container_factory, declares):
    class Billing:
        name = "asking"
        records = confide_rpc.ServiceRpc("answering")

        @dummy
        def ask(self):
            return self.records.echo("x")

    container_factory(Answering).start()
    container = container_factory(Billing)
    container.start()
    with entrypoint_hook(container, "ask") as ask:
        assert [ask(), ask()] == ["x", "x"]
    assert not [name for name in declares if str(name).startswith("rpc.reply-")]


class CutOff:
    """Answers after its own connection to the broker is cut (once): the reply cannot be sent."""

    name = "cut_off"
    proxy = None
    cuts = []

    @confide_rpc.rpc
    def answer_late(self):
        if not self.cuts:
            self.cuts.append(1)
            self.proxy.cut()
        return "late"

    @confide_rpc.rpc
    def echo(self, value):
        return value


def test_a_reply_the_broker_cannot_take_does_not_kill_the_service(rabbit_config, container_factory, caplog):
    """nameko's worker raised when the reply could not be published, and the container
    died with it: a service that answered nothing more until restarted (``make faults``,
    "broker cut off"). Now the lost reply is one line, and the service answers again
    once the broker is back."""
    from confide_testing.helpers import wait_until
    from confide_testing.proxy import TcpProxy
    from nameko import config
    from nameko.exceptions import RpcTimeout
    from nameko.standalone.rpc import ClusterRpcClient

    proxy = CutOff.proxy = TcpProxy("127.0.0.1", 5672)
    CutOff.cuts.clear()
    direct = config["AMQP_URI"]
    try:
        with config.patch({"AMQP_URI": proxy.uri(direct)}), ClusterRpcClient(timeout=3, uri=direct) as client:
            service = container_factory(CutOff)  # (through the proxy: it reads the URI as it publishes)
            service.start()
            with pytest.raises(RpcTimeout):
                client.cut_off.answer_late()
            wait_until(lambda: "a reply was lost" in caplog.text, timeout=30, what="the lost reply logged")
            assert not service._died.ready()
            proxy.restore()
            assert wait_until(lambda: client.cut_off.echo(7) == 7, timeout=30, what="an answer after the cut")
        assert not [r for r in caplog.records if r.name == "nameko.containers" and r.levelname in ("ERROR", "CRITICAL")]
    finally:
        proxy.close()


def test_a_call_made_while_the_reply_listener_starts_is_answered(rabbit_config, container_factory, monkeypatch):
    """A gateway restarted under load serves a request before its reply listener has
    declared its queue: nameko then took the pending reply for one lost and killed
    the container (``make faults``, "kill -9 gateway"). Now the call waits for it."""
    import eventlet
    from confide_testing.helpers import wait_until

    container_factory(Answering).start()
    original = nameko_rpc.ReplyListener.start

    def slow_start(self):
        eventlet.sleep(0.5)
        original(self)

    monkeypatch.setattr(nameko_rpc.ReplyListener, "start", slow_start)
    container = container_factory(asking(confide_rpc.ClusterRpc))
    starting = eventlet.spawn(container.start)
    eventlet.sleep(0.1)  # the container starting, its reply listener not yet
    answers = []

    def handle_result(worker_ctx, result, exc_info):
        answers.append(exc_info[1] if exc_info else result)
        return result, exc_info

    ask = next(e for e in container.entrypoints if e.method_name == "ask")
    container.spawn_worker(ask, ("answering", "echo", 5), {}, handle_result=handle_result)
    with eventlet.Timeout(20):  # (it never finished starting: the container died)
        starting.wait()
    wait_until(lambda: answers, timeout=10, what="the answer")
    assert answers == [5] and not container._died.ready()


class Slow:
    """Counts each time it starts working on a request, then takes its time."""

    name = "slow"
    started = []

    @confide_rpc.rpc
    def work(self, key):
        import eventlet

        self.started.append(key)
        eventlet.sleep(2)
        return key


def test_a_request_is_worked_on_at_most_once_when_its_service_dies_meanwhile(rabbit_config, container_factory):
    """nameko acknowledged a request after its reply, so the replica that took over
    from one that died did the work again: a second addendum, a second payment, a
    second access in the trail for one answer (``make faults``)."""
    import eventlet
    from confide_testing.helpers import wait_until
    from nameko.exceptions import RpcTimeout
    from nameko.standalone.rpc import ClusterRpcClient

    Slow.started.clear()
    dying = container_factory(Slow)
    dying.start()
    with ClusterRpcClient(timeout=6) as client:
        reply = eventlet.spawn(client.slow.work, "request-1")
        wait_until(lambda: Slow.started, timeout=10, what="the work begun")
        dying.kill()  # (its connections dropped, as a killed process's are)
        container_factory(Slow).start()
        with pytest.raises(RpcTimeout):  # (the caller's timeout answers it)
            reply.wait()
        assert client.slow.work("request-2") == "request-2"
    assert Slow.started == ["request-1", "request-2"]


def test_a_request_sent_twice_is_worked_on_once(rabbit_config, container_factory):
    """kombu publishes a request again when its connection died before the broker
    confirmed it -- though the broker may have routed it already: the service then
    did the work twice, a second access in the trail for one answer (``make
    faults``, the broker cut off just after a request). The copy has the same
    correlation id, and is dropped."""
    import uuid

    import eventlet
    from confide_testing.helpers import wait_until
    from kombu import Connection, Exchange, Producer
    from nameko import config

    Slow.started.clear()
    container_factory(Slow).start()
    correlation = str(uuid.uuid4())
    with Connection(config["AMQP_URI"]) as connection:
        producer = Producer(connection.channel(), exchange=Exchange("nameko-rpc", type="topic", durable=True))
        for _ in range(2):  # as kombu's retry sends it: the same message again
            producer.publish({"args": ["once"], "kwargs": {}}, routing_key="slow.work", correlation_id=correlation,
                             reply_to="nobody-listens", serializer="json")
    wait_until(lambda: Slow.started, timeout=10, what="the work begun")
    eventlet.sleep(1)
    assert Slow.started == ["once"]


class Gathering:
    """Answers once all its callers have asked: their replies reach the caller together."""

    name = "gathering"
    asked = []
    all_in = None

    @confide_rpc.rpc
    def echo(self, value):
        self.asked.append(value)
        if len(self.asked) == 30:
            self.all_in.send()
        self.all_in.wait()
        return value


def test_replies_that_arrive_together_are_acknowledged_together(rabbit_config, container_factory, monkeypatch):
    """nameko acknowledged each reply with a frame of its own: under load an eighth of
    a calling service's time. Every reply is still acknowledged, with fewer acks."""
    import amqp
    import eventlet
    from nameko.amqp.consume import Consumer

    acks, replies = [], []
    original_ack, original_on_message = amqp.Channel.basic_ack, Consumer.on_message

    def ack(self, delivery_tag, multiple=False, **kwargs):
        acks.append((self, delivery_tag, multiple))
        return original_ack(self, delivery_tag, multiple, **kwargs)

    def on_message(self, body, message):
        if message.delivery_info["routing_key"] != "gathering.echo":  # (a reply, not a request)
            replies.append((message.channel, message.delivery_tag))
        return original_on_message(self, body, message)

    monkeypatch.setattr(amqp.Channel, "basic_ack", ack)
    monkeypatch.setattr(Consumer, "on_message", on_message)
    Gathering.asked, Gathering.all_in = [], eventlet.Event()
    container_factory(Gathering, {"max_workers": 30}).start()
    container = container_factory(asking(confide_rpc.ClusterRpc))
    container.start()
    provider = next(e for e in container.extensions if isinstance(e, confide_rpc.ClusterRpc))
    client = nameko_rpc.Client(provider.publisher.publish, provider.reply_listener.register_for_reply, {})
    answers = list(eventlet.GreenPool(30).imap(client.gathering.echo, range(30)))
    assert answers == list(range(30))
    eventlet.sleep(0.1)  # (the last ack goes once the listener waits again)
    (channel,) = {channel for channel, _ in replies}
    on_replies = [(tag, multiple) for on, tag, multiple in acks if on is channel]
    assert len(replies) == 30 and len(on_replies) < 30, on_replies
    assert max(tag for tag, multiple in on_replies if multiple) == max(tag for _, tag in replies)


def cut_after_the_next_write(confirmed: confide_rpc.Confirmed) -> list[bool]:
    """The next message written on ``confirmed`` has its connection cut before
    its confirm is read (a confirm that comes anyway goes unseen); the list is
    not empty once it has been."""
    import socket

    connection, channel, cut = confirmed.connection, confirmed.channel, []
    publish = channel.basic_publish

    def publish_then_cut(*args, **kwargs):
        channel.events["basic_ack"].clear()
        publish(*args, **kwargs)
        if not cut:
            cut.append(True)
            connection.connection.sock.shutdown(socket.SHUT_RDWR)

    channel.basic_publish = publish_then_cut
    return cut


def test_a_reply_whose_connection_goes_before_its_confirm_is_sent_again_on_a_new_one(rabbit_config,
                                                                                      container_factory):
    """Replies share one channel, its confirms read by a thread of their own: one
    whose connection is lost after the reply was written, before the broker
    confirmed it, is published once more on a new connection (the caller, which
    may have had the first, drops the second)."""
    from confide_testing.helpers import wait_until
    from nameko.testing.utils import get_extension

    answering = container_factory(Answering)
    answering.start()
    container = container_factory(asking(confide_rpc.ClusterRpc))
    container.start()
    replies = get_extension(answering, confide_rpc.RpcConsumer).replies
    with entrypoint_hook(container, "ask") as ask:
        assert ask("answering", "echo", 1) == 1
        first, cut = replies.connection, cut_after_the_next_write(replies)
        assert ask("answering", "echo", 2) == 2
        assert cut
        wait_until(lambda: replies.connection not in (None, first), timeout=10, what="the reply sent again")
        assert ask("answering", "echo", 3) == 3


class Counting:
    name = "counting"
    worked = []

    @confide_rpc.rpc
    def work(self, key):
        self.worked.append(key)
        return key


def test_a_request_whose_connection_goes_before_its_confirm_is_sent_again_and_worked_on_once(
        rabbit_config, container_factory, caplog):
    """Requests too share one confirmed channel: one whose connection is lost after
    it was written, before the broker confirmed it, is published once more on a
    new connection -- and the service, given it twice, works on it once."""
    Counting.worked = []
    container_factory(Counting).start()
    container = container_factory(asking(confide_rpc.ClusterRpc))
    container.start()
    requests = next(e for e in container.extensions if isinstance(e, confide_rpc.ClusterRpc)).publisher.channel
    with entrypoint_hook(container, "ask") as ask:
        assert ask("counting", "work", 1) == 1
        first, cut = requests.connection, cut_after_the_next_write(requests)
        assert ask("counting", "work", 2) == 2
        assert cut and requests.connection not in (None, first)
        assert ask("counting", "work", 3) == 3
    assert Counting.worked == [1, 2, 3]
    assert "received twice" in caplog.text


def test_a_call_while_the_broker_is_out_of_reach_fails_as_an_outage(rabbit_config, container_factory):
    """A request its channel cannot deliver fails at once, as kombu's producer did,
    with an error the gateway answers 503 (``confide_messaging.outages``)."""
    from confide_messaging.outages import out_of_reach
    from confide_testing.proxy import TcpProxy
    from nameko import config

    container_factory(Answering).start()
    proxy = TcpProxy("127.0.0.1", 5672)
    try:
        with config.patch({"AMQP_URI": proxy.uri(config["AMQP_URI"])}):
            container = container_factory(asking(confide_rpc.ClusterRpc))
            container.start()
        with entrypoint_hook(container, "ask") as ask:
            assert ask("answering", "echo", 1) == 1
            proxy.cut()
            with pytest.raises(Exception) as failed:
                ask("answering", "echo", 2)
        assert out_of_reach(failed.value) == "the message broker", repr(failed.value)
    finally:
        proxy.close()
