"""Runs a service's outbox relay inside its nameko container."""

from __future__ import annotations

import eventlet
from confide_persistence.provider import engine_from_config
from nameko import config
from nameko.extensions import DependencyProvider

from confide_messaging.relay import OutboxRelay


def finish(thread, seconds: float) -> None:
    """Wait up to ``seconds`` for a managed thread to return; the container kills
    it after that."""
    if thread is None or thread.dead:
        return
    with eventlet.Timeout(seconds, False):
        thread.wait()


class OutboxRelayRunner(DependencyProvider):
    """``relay = OutboxRelayRunner()`` on a service publishes its outbox while the
    service runs. Uses ``DATABASE_URL`` and ``AMQP_URI`` from the config."""

    def __init__(self, url_key: str = "DATABASE_URL", credentials_factory=None) -> None:
        self.url_key = url_key
        self.credentials_factory = credentials_factory
        self.relay: OutboxRelay | None = None

    def setup(self) -> None:
        self.engine = engine_from_config(
            self.url_key,
            self.credentials_factory,
            application_name=f"{self.container.service_name}-relay",
            pool_size=2,
        )
        self.relay = OutboxRelay(
            self.engine,
            config["AMQP_URI"],
            batch_size=int(config.get("OUTBOX_BATCH_SIZE", 500)),
            poll_interval=float(config.get("OUTBOX_POLL_SECONDS", 1.0)),
        )

    def start(self) -> None:
        self.thread = self.container.spawn_managed_thread(self.relay.run, identifier="outbox-relay")

    def stop(self) -> None:
        """Let the relay finish its batch, then close its connections (a stopped
        service must not keep database connections open)."""
        if self.relay is None:
            return
        self.relay.stop()
        finish(getattr(self, "thread", None), seconds=10)
        self.engine.dispose()

    def kill(self) -> None:
        if self.relay is not None:
            self.relay.stop()
            self.engine.dispose()

    def get_dependency(self, worker_ctx) -> OutboxRelay | None:
        return self.relay
