"""Events scheduling publishes. Billing charges from ``completed``, ``no_show``
and late ``cancelled``; records and others follow the lifecycle. Identifiers
and facts only."""

from confide_events import registry
from marshmallow import Schema, fields, validate

APPOINTMENT_BOOKED = "scheduling.appointment.booked"
APPOINTMENT_RESCHEDULED = "scheduling.appointment.rescheduled"
APPOINTMENT_CANCELLED = "scheduling.appointment.cancelled"
APPOINTMENT_CHECKED_IN = "scheduling.appointment.checked_in"
APPOINTMENT_COMPLETED = "scheduling.appointment.completed"
APPOINTMENT_NO_SHOW = "scheduling.appointment.no_show"
APPOINTMENT_NEEDS_REASSIGNMENT = "scheduling.appointment.needs_reassignment"
WAITLIST_OFFERED = "scheduling.waitlist.offered"

LIFECYCLE = (APPOINTMENT_BOOKED, APPOINTMENT_RESCHEDULED, APPOINTMENT_CANCELLED, APPOINTMENT_CHECKED_IN,
             APPOINTMENT_COMPLETED, APPOINTMENT_NO_SHOW)

ID = validate.Length(min=1, max=200)
KINDS = ("intake", "individual", "couple", "family", "group", "child")


class AppointmentV1(Schema):
    """The appointment as it stands after the change the event type names."""

    appointment_id = fields.String(required=True, validate=ID)
    series_id = fields.String(load_default=None, allow_none=True, validate=ID)
    site_id = fields.String(required=True, validate=ID)
    room_id = fields.String(load_default=None, allow_none=True, validate=ID)
    clinician_id = fields.String(required=True, validate=ID)
    co_therapist_id = fields.String(load_default=None, allow_none=True, validate=ID)
    client_ids = fields.List(fields.String(validate=ID), required=True, validate=validate.Length(min=1))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    service_kind = fields.String(required=True, validate=validate.Length(min=1, max=64))
    modality = fields.String(required=True, validate=validate.OneOf(("in_person", "telehealth")))
    client_jurisdiction = fields.String(required=True, validate=validate.Length(min=4, max=8))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    planned_minutes = fields.Integer(required=True, validate=validate.Range(min=1, max=600))
    status = fields.String(required=True, validate=validate.OneOf(
        ("booked", "checked_in", "completed", "cancelled", "no_show")))
    # completed: face-to-face minutes; cancelled: by whom, and whether late by the site's policy
    minutes = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=600))
    cancelled_by = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(("client", "clinic")))
    late = fields.Boolean(load_default=None, allow_none=True)
    patient_present = fields.Boolean(load_default=None, allow_none=True)
    interactive_complexity = fields.Boolean(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


for _type in LIFECYCLE:
    registry.register(_type, 1, AppointmentV1)


@registry.event_type(APPOINTMENT_NEEDS_REASSIGNMENT, version=1)
class NeedsReassignmentV1(Schema):
    appointment_id = fields.String(required=True, validate=ID)
    clinician_id = fields.String(required=True, validate=ID)
    site_id = fields.String(required=True, validate=ID)
    starts_at = fields.AwareDateTime(required=True)
    reasons = fields.List(fields.String(), required=True)


@registry.event_type(WAITLIST_OFFERED, version=1)
class WaitlistOfferedV1(Schema):
    entry_id = fields.String(required=True, validate=ID)
    client_id = fields.String(required=True, validate=ID)
    site_id = fields.String(required=True, validate=ID)
    clinician_id = fields.String(required=True, validate=ID)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
