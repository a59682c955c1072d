from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def random_id(prefix: str = "t") -> str:
    """A fresh identifier, so no test depends on another test's data."""
    return f"{prefix}-{secrets.token_hex(6)}"


def wait_until(
    predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.05, what: str = "condition"
) -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value: {last!r})")


def caller(role: str = "clinician", sites: tuple[str, ...] = ("site-a",), **overrides) -> dict:
    """A caller identity as the gateway passes it to services, with a fresh user id
    (acting for the role's usual purpose unless told)."""
    from confide_access.events import default_purpose

    data = {
        "user_id": random_id(role),
        "role": role,
        "sites": list(sites),
        "purpose": str(default_purpose(role)),
        "source_address": "127.0.0.1",
        "user_agent": "confide-tests",
    }
    data.update(overrides)
    return data


def wait_for_handled(engine, consumer: str, event_id, timeout: float = 10.0) -> None:
    """Wait until ``consumer`` (``"<service>.<handler>"``) has committed its
    handling of ``event_id`` -- read from the consumer's inbox table."""
    from confide_messaging.uow import was_handled
    from sqlalchemy.orm import Session

    def handled() -> bool:
        with Session(engine) as session:
            return was_handled(session, consumer, event_id)

    wait_until(handled, timeout=timeout, what=f"{consumer} to handle {event_id}")
