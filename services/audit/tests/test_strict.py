"""The audit service's direct reading of access events (``confide_audit.strict``)
against the schemas': it must read every event producers write, read the same
facts, and never accept what the schemas refuse."""

import json

import pytest
from confide_access.events import ACCESS_EVENT_TYPE, Action, Outcome, Purpose  # noqa: F401 - registers the schema
from confide_audit import strict
from confide_audit.domain.entry import AccessFacts
from confide_events import Actor, EventError, registry
from hypothesis import assume, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.unit  # pure: no PostgreSQL, RabbitMQ or OpenBao


def optional(longest: int):
    return st.one_of(st.none(), st.text(max_size=longest + 3))


payloads = st.fixed_dictionaries({
    "action": st.sampled_from([a.value for a in Action]), "outcome": st.sampled_from([o.value for o in Outcome]),
    "purpose": st.sampled_from([p.value for p in Purpose]), "resource_type": st.text(min_size=0, max_size=66),
    "break_glass": st.booleans(), **{name: optional(longest) for name, longest in strict.OPTIONAL_TEXT.items()}})
envelopes = st.fixed_dictionaries({
    "producer": st.text(min_size=1, max_size=64), "site_id": optional(64),
    "actor": st.builds(Actor, st.text(min_size=1, max_size=200), st.text(min_size=1, max_size=64), optional(200)),
    "traceparent": st.one_of(st.none(), st.just("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))})


def written(payload: dict, envelope: dict) -> dict:
    """The message as a producer writes it and the broker carries it, or None where the schemas refuse it."""
    try:
        event = registry.build("records.access.recorded", payload, **envelope)
    except EventError:
        return None
    return json.loads(json.dumps(event.to_message()))


def schemas_read(message) -> AccessFacts | None:
    try:
        return AccessFacts.from_event(registry.parse(message))
    except EventError:
        return None


@settings(max_examples=300, deadline=None)
@given(payloads, envelopes)
def test_every_event_a_producer_writes_is_read_directly_as_the_schemas_read_it(payload, envelope):
    message = written(payload, envelope)
    assume(message is not None)
    assert strict.read(message) == schemas_read(message) is not None


LIMITS = sorted({64, 200, *strict.OPTIONAL_TEXT.values()})
ODD_VALUES = (*("x" * n for limit in LIMITS for n in (limit, limit + 1)), None, "", 0, 1, True, False, 1.5, [], {},
              "read", "denied", "treatment", "disclose",
              "2026-01-01T00:00:00", "2026-01-01T00:00:00Z", "2026-02-30T00:00:00+00:00", "2026-01-01T00:00:00+01:00",
              "records.access.recorded", "records.note.signed", "00000000-0000-0000-0000-000000000000",
              "0000000-0000-0000-0000-000000000000", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n")
PLACES = ([(key,) for key in strict.ENVELOPE] + [("actor", key) for key in strict.ACTOR]
          + [("payload", key) for key in strict.PAYLOAD])


def changed(message: dict, place: tuple, how: str, value) -> dict:
    copy = json.loads(json.dumps(message))
    holder = copy
    for key in place[:-1]:
        holder = holder.get(key) if isinstance(holder, dict) else None
    if isinstance(holder, dict):
        if how == "set":
            holder[place[-1]] = value
        elif how == "drop":
            holder.pop(place[-1], None)
        else:
            holder["unexpected"] = value
    return copy


@settings(max_examples=600, deadline=None)
@given(payloads, envelopes, st.lists(st.tuples(st.sampled_from(PLACES), st.sampled_from(("set", "drop", "add")),
                                               st.sampled_from(ODD_VALUES)), min_size=1, max_size=3))
def test_nothing_the_schemas_refuse_is_read_directly(payload, envelope, changes):
    message = written(payload, envelope)
    assume(message is not None)
    for change in changes:
        message = changed(message, *change)
    direct = strict.read(message)
    if direct is not None:
        assert direct == schemas_read(message)


@pytest.mark.parametrize("base", [
    {"action": "read", "outcome": "allowed", "purpose": "treatment", "resource_type": "Note"},
    {"action": "disclose", "outcome": "allowed", "purpose": "treatment", "resource_type": "Client",
     "recipient": "Dr. Patel", "break_glass": True, "break_glass_reason": "crisis line call", "reason": "r",
     "client_id": "c-1", "resource_id": "n-1", "source_address": "10.0.0.1", "user_agent": "confide"},
    {"action": "read", "outcome": "denied", "purpose": "emergency", "resource_type": "Note", "reason": "not yours"},
])
def test_no_single_change_the_schemas_refuse_is_read_directly(base):
    """Every field, every way of getting it wrong (each limit and one past it, each type), one at a time."""
    message = written(base, {"producer": "records", "site_id": "north", "actor": Actor("dr-1", "clinician", "dr-2"),
                             "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
    assert strict.read(message) == schemas_read(message) is not None
    for place in PLACES:
        for how in ("set", "drop", "add"):
            for value in ODD_VALUES:
                attempt = changed(message, place, how, value)
                direct = strict.read(attempt)
                if direct is not None:
                    assert direct == schemas_read(attempt), (place, how, value)


def test_what_it_will_not_read_goes_to_the_schemas():
    """The check above can fail: these the schemas read (or refuse), not the direct path."""
    message = written({"action": "read", "outcome": "allowed", "purpose": "treatment", "resource_type": "Note"},
                      {"producer": "records", "actor": Actor("dr-1", "clinician")})
    assert strict.read(message) is not None
    naive = {**message, "occurred_at": message["occurred_at"].removesuffix("+00:00")}
    assert strict.read(naive) is None and schemas_read(naive) is not None  # the schemas take a naive time as UTC
    spoken = {**message, "payload": {**message["payload"], "break_glass": "false"}}
    assert strict.read(spoken) is None and schemas_read(spoken) is not None
    denied = {**message, "payload": {**message["payload"], "outcome": "denied"}}
    assert strict.read(denied) is None and schemas_read(denied) is None  # a denial needs its reason


def test_a_body_is_read_as_json_only_when_sent_as_json():
    """What kombu's ``accept=["json"]`` and its decoder did, with orjson: anything else is parked as undecodable."""
    from collections import namedtuple

    from confide_audit.ingest import UNDECODABLE, decoded

    sent = namedtuple("sent", "content_type body")
    assert decoded(sent("application/json", b'{"id": "e", "payload": {"n": [1, null, "\\u00e9"]}}')) == \
        {"id": "e", "payload": {"n": [1, None, "é"]}}
    assert decoded(sent("text/plain", b'{"id": "e"}')) is UNDECODABLE
    assert decoded(sent("application/x-python-serialize", b"\x80\x04K\x01.")) is UNDECODABLE
    for body in (b"\x00 not json", b'{"id": NaN}', b'{"id": "e"', b"\xff\xfe", b""):
        assert decoded(sent("application/json", body)) is UNDECODABLE, body
