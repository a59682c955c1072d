"""The audit service's reading of an access event without marshmallow on the
common path: validating every event with the schemas was half of what ingest
cost (``make bench NAME=audit``, profiled).

An event in exactly the form producers write it -- every envelope and payload
field of the access-event schemas and nothing else, each of the type they dump
and within their limits, the schema's rules across fields kept -- is read here
directly. Anything else, however slight the difference (a naive time, a
boolean written as a string, a field missing or added), is handed to the
schemas (``registry.parse``), which accept or refuse it with their own reasons.
So this refuses nothing itself and never accepts what the schemas would refuse;
``tests/test_strict.py`` holds it to that, event by event, and to reading the
same facts.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import Any

from confide_access.events import AccessRecordedV1, Action, Outcome, Purpose
from confide_events import registry
from confide_events.envelope import TRACEPARENT, TYPE_NAME, ActorSchema, EnvelopeSchema
from marshmallow import Schema, validate

from confide_audit.domain.entry import AccessFacts


def _lengths(schema: type[Schema]) -> dict[str, tuple[int, int]]:
    """Each string field's (shortest, longest), from the schema's own ``Length``."""
    return {name: (v.min or 0, v.max) for name, field in schema().fields.items() for v in field.validators
            if isinstance(v, validate.Length)}


# the fields and limits are the schemas' own, read from them: the two cannot drift apart
ENVELOPE, ACTOR, PAYLOAD = (frozenset(schema().fields) for schema in (EnvelopeSchema, ActorSchema, AccessRecordedV1))
ENVELOPE_TEXT, ACTOR_TEXT, PAYLOAD_TEXT = (_lengths(s) for s in (EnvelopeSchema, ActorSchema, AccessRecordedV1))
OPTIONAL_TEXT = {name: longest for name, (_, longest) in PAYLOAD_TEXT.items() if name != "resource_type"}
ACTIONS = frozenset(a.value for a in Action)
OUTCOMES = frozenset(o.value for o in Outcome)
PURPOSES = frozenset(p.value for p in Purpose)
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00")  # as the envelope dumps a UTC time


@cache
def _current(type_name: str) -> bool:
    """Whether version 1 is the newest of ``type_name`` (else the schemas upcast it)."""
    return registry.knows(type_name) and registry.latest_version(type_name) == 1


def _text(value: Any, limits: tuple[int, int]) -> bool:
    return type(value) is str and limits[0] <= len(value) <= limits[1]


def _optional(value: Any, limits: tuple[int, int]) -> bool:
    return value is None or (type(value) is str and len(value) <= limits[1])


def read(body: Any) -> AccessFacts | None:
    """The facts of ``body`` if it is an access event in the producers' exact
    form; None if the schemas must read it."""
    if type(body) is not dict or body.keys() != ENVELOPE:
        return None
    actor, p, kind, trace = body["actor"], body["payload"], body["type"], body["traceparent"]
    if type(actor) is not dict or actor.keys() != ACTOR or type(p) is not dict or p.keys() != PAYLOAD:
        return None
    if not (type(body["id"]) is str and UUID_TEXT.fullmatch(body["id"])
            and type(kind) is str and kind.endswith(".access.recorded") and TYPE_NAME.fullmatch(kind)
            and _current(kind) and type(body["schema_version"]) is int and body["schema_version"] == 1
            and type(body["occurred_at"]) is str and INSTANT.fullmatch(body["occurred_at"])
            and _text(body["producer"], ENVELOPE_TEXT["producer"])
            and _optional(body["site_id"], ENVELOPE_TEXT["site_id"])
            and (trace is None or (type(trace) is str and TRACEPARENT.fullmatch(trace)))
            and _text(actor["id"], ACTOR_TEXT["id"]) and _text(actor["role"], ACTOR_TEXT["role"])
            and _optional(actor["on_behalf_of"], ACTOR_TEXT["on_behalf_of"])):
        return None
    if not (type(p["action"]) is str and p["action"] in ACTIONS and type(p["outcome"]) is str
            and p["outcome"] in OUTCOMES and type(p["purpose"]) is str and p["purpose"] in PURPOSES
            and _text(p["resource_type"], PAYLOAD_TEXT["resource_type"]) and type(p["break_glass"]) is bool
            and all(_optional(p[name], limits) for name, limits in PAYLOAD_TEXT.items() if name != "resource_type")):
        return None
    # the schema's rules across fields: an event that breaks one is the schemas' to refuse, with the reason
    if (p["outcome"] == Outcome.DENIED.value and not p["reason"]) \
            or (p["break_glass"] and not p["break_glass_reason"]) \
            or (p["action"] == Action.DISCLOSE.value and p["outcome"] == Outcome.ALLOWED.value and not p["recipient"]):
        return None
    try:
        occurred_at = datetime.fromisoformat(body["occurred_at"])
    except ValueError:  # (a day or hour out of range)
        return None
    return AccessFacts(
        event_id=body["id"], event_type=kind, producer=body["producer"],
        occurred_at=occurred_at, actor_id=actor["id"], actor_role=actor["role"],
        on_behalf_of=actor["on_behalf_of"], site_id=body["site_id"], action=p["action"], outcome=p["outcome"],
        resource_type=p["resource_type"], resource_id=p["resource_id"], client_id=p["client_id"],
        purpose=p["purpose"], reason=p["reason"], break_glass=p["break_glass"],
        break_glass_reason=p["break_glass_reason"], source_address=p["source_address"], user_agent=p["user_agent"],
        recipient=p["recipient"], trace_id=trace.split("-")[1] if trace else None,
    )
