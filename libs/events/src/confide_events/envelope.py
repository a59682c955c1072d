"""The envelope every event travels in (DESIGN.md, "Events")."""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uuid_utils.compat as uuid_compat
from marshmallow import Schema, fields, validate

TYPE_NAME = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*\.[a-z][a-z_]*$")
TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def new_event_id() -> uuid.UUID:
    """A UUIDv7: time-ordered, so ids sort roughly by creation."""
    return uuid_compat.uuid7()


@dataclass(frozen=True)
class Actor:
    id: str
    role: str
    on_behalf_of: str | None = None


@dataclass(frozen=True)
class Event:
    type: str
    schema_version: int
    producer: str
    actor: Actor
    payload: dict[str, Any]
    site_id: str | None = None
    traceparent: str | None = None
    id: uuid.UUID = field(default_factory=new_event_id)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_message(self) -> dict[str, Any]:
        """The JSON-ready form sent over the wire and stored in outboxes (a new dict each time)."""
        return _ENVELOPE.dump(self)

    @functools.cached_property
    def message(self) -> dict[str, Any]:
        """:meth:`to_message` made once, as the producer validates it and then
        writes it to its outbox: the same dict each time, only to be read."""
        return self.to_message()


class ActorSchema(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.Length(min=1, max=64))
    on_behalf_of = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class EnvelopeSchema(Schema):
    """Envelope fields; the payload is validated by the schema of its type and version."""

    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Regexp(TYPE_NAME))
    schema_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    producer = fields.String(required=True, validate=validate.Length(min=1, max=64))
    site_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    actor = fields.Nested(ActorSchema, required=True)
    traceparent = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(TRACEPARENT))
    payload = fields.Dict(required=True)


_ENVELOPE = EnvelopeSchema()
