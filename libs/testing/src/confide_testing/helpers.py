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
