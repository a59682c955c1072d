"""Event envelope, registry of versioned event types, validation on publish and consume."""

from confide_events.envelope import Actor, Event, new_event_id
from confide_events.errors import EventError, InvalidEvent, UnknownEventType
from confide_events.registry import EventRegistry, registry

__all__ = [
    "Actor",
    "Event",
    "EventError",
    "EventRegistry",
    "InvalidEvent",
    "UnknownEventType",
    "new_event_id",
    "registry",
]
