from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class EventError(Exception):
    """Base of every error this library raises on purpose."""


class UnknownEventType(EventError):
    def __init__(self, type_name: str, version: int | None = None) -> None:
        self.type_name = type_name
        self.version = version
        what = type_name if version is None else f"{type_name} v{version}"
        super().__init__(f"unknown event type {what}")


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested error dict into ``{"payload.client_id": [...]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_schema"] = list(messages)
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            flat.update(flatten_errors(value, f"{prefix}[{index}]"))
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


class InvalidEvent(EventError):
    """An envelope or payload failed its schema; ``errors`` maps field paths to messages."""

    def __init__(self, type_name: str | None, errors: Mapping[str, list[str]]) -> None:
        self.type_name = type_name
        self.errors = dict(errors)
        detail = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in sorted(self.errors.items()))
        super().__init__(f"invalid event {type_name or ''}: {detail}".replace("  ", " "))

    @property
    def fields(self) -> list[str]:
        return sorted(self.errors)
