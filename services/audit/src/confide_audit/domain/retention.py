"""How long the trail is kept, and where a purged chain starts (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

# keep in step with the 0002 migration's guard
RETENTION_DAYS = 2196  # six years of 366 days: never a day short
RETENTION = timedelta(days=RETENTION_DAYS)


@dataclass(frozen=True)
class Horizon:
    """Where a purged chain starts: verification resumes here."""

    first_seq: int
    chain_hash: bytes
    frontier: list[bytes]
