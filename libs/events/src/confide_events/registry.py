"""Registry of event types: one marshmallow schema per ``schema_version``.

Producers validate on the way out (:meth:`EventRegistry.build`), consumers on the
way in (:meth:`EventRegistry.parse`). A consumer accepts every version it knows;
older payloads are brought up to the newest with small ``upcast`` functions, as
in pyeventsourcing.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError

from confide_events.envelope import TYPE_NAME, Actor, EnvelopeSchema, Event
from confide_events.errors import InvalidEvent, UnknownEventType, flatten_errors

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class _Version:
    schema: type[Schema]
    upcast: Upcaster | None  # from this version to the next
    instance: Schema  # built once: building a marshmallow schema costs more than using it


_envelope = EnvelopeSchema()
# what of an envelope comes from outside the registry, checked as a consumer will: its id and time are made
# here, its version is one registered, its payload was just validated (a full load cost as much as the payload's)
_ENVELOPE_GIVEN = ("type", "producer", "site_id", "actor", "traceparent")
_envelope_given = EnvelopeSchema(only=_ENVELOPE_GIVEN)


class EventRegistry:
    def __init__(self) -> None:
        self._types: dict[str, dict[int, _Version]] = {}

    def register(
        self,
        type_name: str,
        version: int,
        schema: type[Schema],
        upcast: Upcaster | None = None,
    ) -> None:
        """Register ``schema`` for ``type_name`` at ``version``.

        ``type_name`` may be a pattern such as ``*.access.recorded`` for a family
        of types every service emits with one shape. ``upcast`` turns a payload
        of this version into one of ``version + 1``.
        """
        if version < 1:
            raise ValueError(f"{type_name}: versions start at 1, not {version}")
        probe = type_name.replace("*", "x")
        if not TYPE_NAME.match(probe):
            raise ValueError(f"event type {type_name!r} is not <service>.<entity>.<past_tense_verb>")
        versions = self._types.setdefault(type_name, {})
        if version in versions and versions[version].schema is not schema:
            raise ValueError(f"{type_name} v{version} is already registered")
        versions[version] = _Version(schema, upcast, schema())

    def event_type(self, type_name: str, version: int = 1, upcast: Upcaster | None = None):
        """Class decorator form of :meth:`register`."""

        def decorate(schema: type[Schema]) -> type[Schema]:
            self.register(type_name, version, schema, upcast)
            return schema

        return decorate

    def _versions(self, type_name: str) -> dict[int, _Version]:
        if type_name in self._types:
            return self._types[type_name]
        for pattern, versions in self._types.items():
            if "*" in pattern and fnmatch.fnmatchcase(type_name, pattern):
                return versions
        raise UnknownEventType(type_name)

    def knows(self, type_name: str) -> bool:
        try:
            self._versions(type_name)
        except UnknownEventType:
            return False
        return True

    def latest_version(self, type_name: str) -> int:
        return max(self._versions(type_name))

    def _load_payload(self, type_name: str, version: int, payload: Any) -> dict[str, Any]:
        versions = self._versions(type_name)
        if version not in versions:
            raise UnknownEventType(type_name, version)
        try:
            return versions[version].instance.load(payload)
        except ValidationError as exc:
            raise InvalidEvent(type_name, flatten_errors(exc.messages, "payload")) from None

    def build(
        self,
        type_name: str,
        payload: Mapping[str, Any],
        *,
        producer: str,
        actor: Actor,
        site_id: str | None = None,
        traceparent: str | None = None,
        version: int | None = None,
    ) -> Event:
        """Validate ``payload`` and wrap it in an envelope, ready for the outbox.

        Raises :class:`InvalidEvent` naming each bad field, or
        :class:`UnknownEventType`.
        """
        version = version or self.latest_version(type_name)
        loaded = self._load_payload(type_name, version, dict(payload))
        schema = self._versions(type_name)[version].instance
        event = Event(
            type=type_name,
            schema_version=version,
            producer=producer,
            actor=actor,
            payload=schema.dump(loaded),
            site_id=site_id,
            traceparent=traceparent,
            occurred_at=datetime.now(UTC),
        )
        message = event.message
        try:
            _envelope_given.load({name: message[name] for name in _ENVELOPE_GIVEN})
        except ValidationError as exc:
            raise InvalidEvent(type_name, flatten_errors(exc.messages)) from None
        return event

    def parse(self, message: Any, *, upcast: bool = True) -> Event:
        """Validate a message from the wire and return the event, upcast to the
        newest version this registry knows.
        """
        if not isinstance(message, Mapping):
            raise InvalidEvent(None, {"_schema": ["event must be a JSON object"]})
        try:
            envelope = _envelope.load(message)
        except ValidationError as exc:
            raise InvalidEvent(message.get("type"), flatten_errors(exc.messages)) from None
        type_name = envelope["type"]
        version = envelope["schema_version"]
        payload = self._load_payload(type_name, version, envelope["payload"])
        versions = self._versions(type_name)
        if upcast and version + 1 in versions:
            raw = versions[version].instance.dump(payload)
            while version + 1 in versions:
                step = versions[version].upcast
                if step is None:
                    break
                raw = step(raw)
                version += 1
                payload = self._load_payload(type_name, version, raw)
        dumped = versions[version].instance.dump(payload)
        return Event(
            id=envelope["id"],
            type=type_name,
            schema_version=version,
            occurred_at=envelope["occurred_at"].astimezone(UTC),
            producer=envelope["producer"],
            site_id=envelope["site_id"],
            actor=Actor(**envelope["actor"]),
            traceparent=envelope["traceparent"],
            payload=dumped,
        )


registry = EventRegistry()
"""The process-wide registry; each service registers its schemas at import."""
