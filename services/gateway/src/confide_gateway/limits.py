"""What one person may ask of a gateway replica: a token bucket per user
(``GATEWAY_RATE_PER_SECOND`` sustained, ``GATEWAY_RATE_BURST`` at once), so one
runaway script or stolen token cannot starve the clinic. In memory, per
replica: behind N replicas a user gets up to N times the rate, which bounds the
harm without a shared store on every request's path."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    rate: float  # tokens per second
    burst: float
    clock: object = time.monotonic
    remembered: int = 10_000  # users; the idlest are forgotten past this (a full bucket again)
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, user: str) -> float:
        """0 if ``user`` may go ahead now (one token taken), else the seconds to wait."""
        now = self.clock()
        tokens, then = self._buckets.pop(user, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self._buckets[user] = (tokens - 1 if wait == 0 else tokens, now)  # (re-inserted: the newest last)
        if len(self._buckets) > self.remembered:
            del self._buckets[next(iter(self._buckets))]
        return wait
