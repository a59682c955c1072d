"""The pytest plugin every Confide package tests with: real PostgreSQL, RabbitMQ
and OpenBao, each test run in its own databases, vhosts and Vault mounts."""

from confide_testing.helpers import caller, random_id, wait_for_handled, wait_until

__all__ = ["caller", "random_id", "wait_for_handled", "wait_until"]
