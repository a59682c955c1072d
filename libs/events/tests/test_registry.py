from datetime import UTC, datetime

import pytest
from confide_events import Actor, EventRegistry, InvalidEvent, UnknownEventType
from marshmallow import Schema, fields

pytestmark = pytest.mark.unit  # pure: no PostgreSQL, RabbitMQ or OpenBao

ACTOR = Actor(id="u-1", role="clinician")


class BookedV1(Schema):
    appointment_id = fields.String(required=True)
    minutes = fields.Integer(required=True)


class BookedV2(Schema):
    appointment_id = fields.String(required=True)
    duration_minutes = fields.Integer(required=True)
    modality = fields.String(required=True)


def v1_to_v2(payload):
    return {
        "appointment_id": payload["appointment_id"],
        "duration_minutes": payload["minutes"],
        "modality": "in_person",
    }


@pytest.fixture
def registry():
    reg = EventRegistry()
    reg.register("scheduling.appointment.booked", 1, BookedV1, upcast=v1_to_v2)
    reg.register("scheduling.appointment.booked", 2, BookedV2)
    return reg


def test_build_then_parse_round_trips(registry):
    event = registry.build(
        "scheduling.appointment.booked",
        {"appointment_id": "a-1", "duration_minutes": 50, "modality": "telehealth"},
        producer="scheduling",
        actor=ACTOR,
        site_id="site-1",
    )
    assert event.schema_version == 2
    parsed = registry.parse(event.to_message())
    assert parsed == event
    assert parsed.occurred_at.tzinfo is not None
    assert event.id.version == 7


def test_consumer_accepts_old_version_upcast_to_newest(registry):
    old = registry.build(
        "scheduling.appointment.booked",
        {"appointment_id": "a-1", "minutes": 45},
        producer="scheduling",
        actor=ACTOR,
        version=1,
    )
    parsed = registry.parse(old.to_message())
    assert parsed.schema_version == 2
    assert parsed.payload == {"appointment_id": "a-1", "duration_minutes": 45, "modality": "in_person"}


def test_bad_payload_names_the_field(registry):
    with pytest.raises(InvalidEvent) as caught:
        registry.build(
            "scheduling.appointment.booked",
            {"appointment_id": "a-1", "duration_minutes": "fifty", "modality": "x"},
            producer="scheduling",
            actor=ACTOR,
        )
    assert caught.value.fields == ["payload.duration_minutes"]
    assert "payload.duration_minutes" in str(caught.value)


def test_bad_envelope_names_the_field(registry):
    message = registry.build(
        "scheduling.appointment.booked",
        {"appointment_id": "a", "duration_minutes": 1, "modality": "x"},
        producer="scheduling",
        actor=ACTOR,
    ).to_message()
    del message["actor"]["role"]
    message["occurred_at"] = "yesterday"
    with pytest.raises(InvalidEvent) as caught:
        registry.parse(message)
    assert caught.value.fields == ["actor.role", "occurred_at"]


def test_naive_timestamp_is_refused(registry):
    message = registry.build(
        "scheduling.appointment.booked",
        {"appointment_id": "a", "duration_minutes": 1, "modality": "x"},
        producer="scheduling",
        actor=ACTOR,
    ).to_message()
    message["occurred_at"] = datetime(2026, 1, 1).isoformat()
    parsed = registry.parse(message)
    assert parsed.occurred_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_unknown_type_and_version(registry):
    with pytest.raises(UnknownEventType):
        registry.build("billing.invoice.issued", {}, producer="billing", actor=ACTOR)
    with pytest.raises(UnknownEventType):
        registry.build(
            "scheduling.appointment.booked", {}, producer="s", actor=ACTOR, version=9
        )


def test_type_names_follow_the_convention():
    reg = EventRegistry()
    with pytest.raises(ValueError):
        reg.register("AppointmentBooked", 1, BookedV1)


def test_pattern_registration_covers_a_family():
    reg = EventRegistry()
    reg.register("*.access.recorded", 1, BookedV1)
    assert reg.knows("records.access.recorded")
    assert not reg.knows("records.note.signed")


def test_non_object_message_is_refused(registry):
    with pytest.raises(InvalidEvent):
        registry.parse(["not", "an", "object"])


@pytest.mark.parametrize(("given", "field"), [
    ({"actor": Actor(id="x" * 201, role="clinician")}, "actor.id"),
    ({"actor": Actor(id="dr-ana", role="")}, "actor.role"),
    ({"site_id": "s" * 65}, "site_id"),
    ({"traceparent": "00-not-a-trace"}, "traceparent"),
    ({"producer": ""}, "producer"),
])
def test_what_the_envelope_is_given_is_checked_as_a_consumer_will(registry, given, field):
    """The producer checks only what its envelope is given (its id, time and
    version it makes itself), with the envelope's own rules."""
    with pytest.raises(InvalidEvent) as caught:
        registry.build("scheduling.appointment.booked", {"appointment_id": "a", "duration_minutes": 1, "modality": "x"},
                       **{"producer": "scheduling", "actor": ACTOR, **given})
    assert caught.value.fields == [field]


def test_the_message_written_is_the_message_checked(registry):
    event = registry.build("scheduling.appointment.booked",
                           {"appointment_id": "a", "duration_minutes": 1, "modality": "x"},
                           producer="scheduling", actor=ACTOR, site_id="north")
    assert event.message is event.message and event.message == event.to_message()
    assert registry.parse(event.message) == event
