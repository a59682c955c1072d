"""Rows as JSON-ready values for an RPC reply."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any


def plain_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def plain(row) -> dict[str, Any]:
    """A SQLAlchemy row as a dict of JSON-ready values (dates ISO 8601, UUIDs as text)."""
    return {key: plain_value(value) for key, value in row._mapping.items()}
