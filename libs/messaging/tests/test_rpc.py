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
    modes = []
    original = kombu.Producer.publish

    def spy(self, body, *args, **kwargs):
        modes.append(kwargs.get("delivery_mode"))
        return original(self, body, *args, **kwargs)

    monkeypatch.setattr(kombu.Producer, "publish", spy)
    _ask(container_factory, confide_rpc.ClusterRpc, "answering", "echo", 1)
    assert modes and set(modes) == {1}, modes  # 5 requests and 5 replies, all transient


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
