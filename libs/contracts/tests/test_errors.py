"""The errors services raise keep their class and field errors across the wire
(nameko's JSON serialization, as the broker carries it), and the gateway maps
them by class."""

import json

import pytest
from confide_contracts.errors import (
    AccessDenied,
    BookingConflict,
    Conflict,
    ExpectedRefusals,
    InvalidRequest,
    NotFound,
    NotLicensed,
    RecordIntegrityError,
    ServiceError,
)
from nameko.exceptions import RemoteError, deserialize, serialize

pytestmark = pytest.mark.unit

# text the old "field: msg; field: msg" parsing got wrong: separators inside a message
TRICKY = {"starts_at": ["overlaps; room_id: taken"], "client_ids.0": ["'x' is not a valid id"]}


def over_the_wire(exc: Exception) -> Exception:
    return deserialize(json.loads(json.dumps(serialize(exc))))


@pytest.mark.parametrize("error, status, errors", [
    (InvalidRequest(TRICKY), 400, TRICKY),
    (BookingConflict({"room_id": ["booked 10:00-10:50"]}), 409, {"room_id": ["booked 10:00-10:50"]}),
    (Conflict({"appointment_id": ["already has a claim"]}), 409, {"appointment_id": ["already has a claim"]}),
    (NotLicensed({"clinician_id": ["no licence in US-CA", "not in PSYPACT"]}), 422,
     {"clinician_id": ["no licence in US-CA", "not in PSYPACT"]}),
    (AccessDenied("not on the client's care team"), 403, {}),
    (NotFound("no note 42"), 404, {}),
    (NotFound("no site east", {"site_id": ["no site east"]}), 404, {"site_id": ["no site east"]}),
    (RecordIntegrityError("note 42 does not match what was signed"), 500, {}),
])
def test_each_error_arrives_as_itself_with_its_fields(error, status, errors):
    arrived = over_the_wire(error)
    assert type(arrived) is type(error)
    assert isinstance(arrived, RemoteError) and arrived.exc_type == type(error).__name__
    assert arrived.status == status and arrived.errors == errors and arrived.detail == error.detail


def test_an_access_denied_keeps_its_reason():
    assert over_the_wire(AccessDenied("psychotherapy notes are for their author only")).reason == \
        "psychotherapy notes are for their author only"


def test_the_gateway_maps_by_class_without_reading_the_text():
    from confide_gateway.problems import from_error

    answer = from_error(over_the_wire(InvalidRequest(TRICKY)))
    body = json.loads(answer.get_data())
    assert answer.status_code == 400 and body["errors"] == TRICKY
    assert body["type"].endswith("/invalid-request")
    hidden = json.loads(from_error(RecordIntegrityError("note 42: ciphertext changed"), "trace-1").get_data())
    assert hidden == {"type": hidden["type"], "title": RecordIntegrityError.title, "status": 500,
                      "trace_id": "trace-1"}  # nothing internal leaks


def test_expected_refusals_are_one_line_at_info():
    import logging

    class Ctx:
        class entrypoint:
            method_name = "book"
            expected_exceptions = (ServiceError,)

        class container:
            service_name = "scheduling"

    def record_of(exc):
        try:
            raise exc
        except ServiceError:
            import sys
            return logging.LogRecord("nameko.containers", logging.WARNING, __file__, 1,
                                     "(expected) error handling worker %s: %s", (Ctx, exc), sys.exc_info())

    refused = record_of(BookingConflict({"room_id": ["taken"]}))
    assert ExpectedRefusals().filter(refused)
    assert refused.levelno == logging.INFO and refused.exc_info is None
    assert refused.getMessage() == "scheduling.book refused: BookingConflict (room_id)"  # no words of the request
    broken = record_of(RecordIntegrityError("changed"))
    ExpectedRefusals().filter(broken)
    assert broken.levelno == logging.WARNING and broken.exc_info is not None
    Ctx.entrypoint.expected_exceptions = ()  # an event handler expects nothing: its failures keep their traceback
    handler = record_of(BookingConflict({"room_id": ["taken"]}))
    ExpectedRefusals().filter(handler)
    assert handler.exc_info is not None
