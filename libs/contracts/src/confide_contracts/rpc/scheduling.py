"""What the scheduling service's RPCs accept; errors name the field."""

from __future__ import annotations

import datetime

from confide_licensure.fields import Jurisdiction, ServiceKind
from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from confide_contracts.paging import paged
from confide_contracts.rpc import formats
from confide_contracts.time_zones import UnknownTimeZone, zone

ID = validate.Length(min=1, max=200)
# instants a clinic books: from 1900 to the year 2999 (an end past 9999-12-31 cannot be computed)
WHEN = validate.Range(min=datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC),
                      max=datetime.datetime(3000, 1, 2, tzinfo=datetime.UTC), max_inclusive=False)
DAYS = validate.Range(min=datetime.date(1900, 1, 1), max=datetime.date(2999, 12, 31))
KINDS = ("intake", "individual", "couple", "family", "group", "child")
# clients per appointment kind
KIND_SIZES = {"intake": (1, 1), "individual": (1, 1), "child": (1, 1), "couple": (2, 2), "family": (1, 12),
              "group": (2, 40)}


class SiteSchema(Schema):
    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{1,63}$",
                                                               error="lowercase letters, digits and dashes"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    address = fields.Dict(load_default=None, allow_none=True)
    jurisdiction = Jurisdiction(required=True)
    time_zone = fields.String(required=True, metadata=formats.TIME_ZONE)
    late_cancel_hours = formats.Integer(load_default=24, strict=True, validate=validate.Range(min=0, max=168))
    offer_hours = formats.Integer(load_default=24, strict=True, validate=validate.Range(min=1, max=336),
                                  metadata={"description": "how long a waitlist offer stands before the next "
                                                           "person in line is asked"})

    @validates("time_zone")
    def known_zone(self, value, **kwargs):
        try:
            zone(value)
        except UnknownTimeZone as exc:
            raise ValidationError(str(exc)) from None


class SiteChangesSchema(SiteSchema):
    """What may change of a site; its id, jurisdiction and time zone stay (every
    booking and availability window is kept in the site's wall-clock time)."""

    class Meta:
        exclude = ("id", "jurisdiction", "time_zone")


class RoomSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    capacity = formats.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100))
    telehealth_capable = fields.Boolean(load_default=False)


class SiteListSchema(paged("name", "id")):
    jurisdiction = Jurisdiction(load_default=None, allow_none=True)


class RoomListSchema(paged("name")):
    retired = fields.Boolean(load_default=False, metadata={"description": "list retired rooms instead"})


class AvailabilitySchema(Schema):
    OPENAPI = {"example": {"clinician_id": "dr-ana-ruiz", "site_id": "north", "weekday": 1, "starts": "09:00",
                           "ends": "17:00", "valid_from": "2026-01-05"}}

    clinician_id = fields.String(required=True, validate=ID)
    site_id = fields.String(required=True, validate=ID)
    weekday = formats.Integer(required=True, strict=True, validate=validate.Range(min=0, max=6))
    starts = fields.Time(required=True, metadata=formats.CLOCK_TIME)
    ends = fields.Time(required=True, metadata=formats.CLOCK_TIME)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def order(self, data, **kwargs):
        if data.get("starts") and data.get("ends") and data["ends"] <= data["starts"]:
            raise ValidationError("must be after starts", "ends")
        if data.get("valid_until") and data.get("valid_from") and data["valid_until"] < data["valid_from"]:
            raise ValidationError("must not be before valid_from", "valid_until")


class AvailabilityChangesSchema(AvailabilitySchema):
    """A window's days and hours; whose and where stay (add another window for that)."""

    class Meta:
        exclude = ("clinician_id", "site_id")


class AvailabilityListSchema(paged("clinician", "weekday")):
    site_id = fields.String(load_default=None, allow_none=True, validate=ID)
    clinician_id = fields.String(load_default=None, allow_none=True, validate=ID)
    on = fields.Date(load_default=None, allow_none=True, metadata={"description": "only windows in force that day"})


class ExceptionSchema(Schema):
    OPENAPI = {"anyOf": [{"required": ["clinician_id"], "properties": {"clinician_id": {"type": "string"}}},
                         {"required": ["site_id"], "properties": {"site_id": {"type": "string"}}}]}

    clinician_id = fields.String(load_default=None, allow_none=True, validate=ID)
    site_id = fields.String(load_default=None, allow_none=True, validate=ID)
    starts_at = fields.AwareDateTime(required=True, validate=WHEN, metadata=formats.INSTANT)
    ends_at = fields.AwareDateTime(required=True, validate=WHEN, metadata=formats.INSTANT)
    reason = fields.String(required=True, validate=validate.Length(min=2, max=200))

    @validates_schema
    def sane(self, data, **kwargs):
        if not data.get("clinician_id") and not data.get("site_id"):
            raise ValidationError("name a clinician, a site, or both", "clinician_id")
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise ValidationError("must be after starts_at", "ends_at")


class AppointmentSchema(Schema):
    # what the document states of consistent() below: sizes per kind; telehealth needs the client's
    # jurisdiction, in person a room
    OPENAPI = {"allOf": [
        {"oneOf": [{"properties": {"kind": {"const": kind}, "client_ids": {"minItems": low, "maxItems": high}}}
                   for kind, (low, high) in sorted(KIND_SIZES.items())]},
        {"oneOf": [
            {"properties": {"modality": {"const": "telehealth"}, "client_jurisdiction": {"type": "string"}},
             "required": ["client_jurisdiction"]},
            {"properties": {"modality": {"const": "in_person"}, "room_id": {"type": "string"}},
             "required": ["room_id"]}]},
    ]}

    site_id = fields.String(required=True, validate=ID)
    room_id = fields.UUID(load_default=None, allow_none=True)
    clinician_id = fields.String(required=True, validate=ID)
    co_therapist_id = fields.String(load_default=None, allow_none=True, validate=ID)
    client_ids = fields.List(fields.String(validate=ID), required=True, validate=validate.Length(min=1, max=40),
                             metadata={"uniqueItems": True})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    service_kind = ServiceKind(required=True)
    modality = fields.String(required=True, validate=validate.OneOf(("in_person", "telehealth")))
    client_jurisdiction = Jurisdiction(load_default=None, allow_none=True)  # telehealth: where the client is
    starts_at = fields.AwareDateTime(required=True, validate=WHEN, metadata=formats.INSTANT)
    planned_minutes = formats.Integer(required=True, strict=True, validate=validate.Range(min=5, max=480))

    @validates_schema
    def consistent(self, data, **kwargs):
        clients = data.get("client_ids") or []
        if len(set(clients)) != len(clients):
            raise ValidationError("lists a client twice", "client_ids")
        low, high = KIND_SIZES.get(data.get("kind"), (1, 40))
        if not low <= len(clients) <= high:
            raise ValidationError(f"a {data.get('kind')} appointment has {low}-{high} clients", "client_ids")
        if data.get("modality") == "telehealth" and not data.get("client_jurisdiction"):
            raise ValidationError("required for telehealth: where the client will be", "client_jurisdiction")
        if data.get("modality") == "in_person" and not data.get("room_id"):
            raise ValidationError("required for an in-person session", "room_id")
        if data.get("co_therapist_id") and data.get("co_therapist_id") == data.get("clinician_id"):
            raise ValidationError("must differ from clinician_id", "co_therapist_id")


class SeriesSchema(Schema):
    appointment = fields.Nested(AppointmentSchema, required=True)
    rrule = fields.String(required=True, validate=validate.Length(min=6, max=500))


class SeriesExtensionSchema(Schema):
    OPENAPI = {"oneOf": [{"required": ["count"]}, {"required": ["until"]}]}

    count = formats.Integer(load_default=None, allow_none=True, validate=validate.Range(min=2, max=104),
                            metadata={"description": "occurrences in all, those held included"})
    until = fields.Date(load_default=None, allow_none=True, validate=DAYS,
                        metadata={**formats.CALENDAR_DATE, "description": "the last date, the site's"})

    @validates_schema
    def one(self, data, **kwargs):
        if (data.get("count") is None) == (data.get("until") is None):
            raise ValidationError("give count or until, not both", "count")


class SeriesEndSchema(Schema):
    last_date = fields.Date(required=True, validate=DAYS, metadata={
        **formats.CALENDAR_DATE, "description": "no sessions after this date (the site's)"})
    reason = fields.String(required=True, validate=validate.Length(min=2, max=500))


class RescheduleSchema(Schema):
    starts_at = fields.AwareDateTime(required=True, validate=WHEN, metadata=formats.INSTANT)
    room_id = fields.UUID(load_default=None, allow_none=True)
    scope = fields.String(load_default="this", validate=validate.OneOf(("this", "following")))


class CancelSchema(Schema):
    by = fields.String(required=True, validate=validate.OneOf(("client", "clinic")))
    reason = fields.String(required=True, validate=validate.Length(min=2, max=500))
    scope = fields.String(load_default="this", validate=validate.OneOf(("this", "following")))


class ReassignSchema(Schema):
    clinician_id = fields.String(required=True, validate=ID)
    replaces = fields.String(load_default="clinician", validate=validate.OneOf(("clinician", "co_therapist")),
                             metadata={"description": "whose place the new clinician takes"})
    scope = fields.String(load_default="this", validate=validate.OneOf(("this", "following")),
                          metadata={"description": "this session, or it and the rest of its series"})


class FlaggedListSchema(paged("starts")):
    site_id = fields.String(load_default=None, allow_none=True, validate=ID)
    clinician_id = fields.String(load_default=None, allow_none=True, validate=ID)


class CompleteSchema(Schema):
    minutes = formats.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=0, max=600))
    patient_present = fields.Boolean(load_default=True)  # family sessions: with or without the client
    interactive_complexity = fields.Boolean(load_default=False)


class SlotQuerySchema(Schema):
    clinician_id = fields.String(required=True, validate=ID)
    site_id = fields.String(required=True, validate=ID)
    service_kind = ServiceKind(required=True)
    modality = fields.String(load_default="in_person", validate=validate.OneOf(("in_person", "telehealth")))
    client_jurisdiction = Jurisdiction(load_default=None, allow_none=True)
    clients = formats.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=40))
    minutes = formats.Integer(load_default=50, strict=True, validate=validate.Range(min=5, max=480))
    step = formats.Integer(load_default=15, strict=True, validate=validate.Range(min=5, max=240))
    from_date = fields.Date(required=True)
    to_date = fields.Date(required=True)

    @validates_schema
    def span(self, data, **kwargs):
        if data.get("from_date") and data.get("to_date"):
            if data["to_date"] < data["from_date"]:
                raise ValidationError("must not be before from_date", "to_date")
            if (data["to_date"] - data["from_date"]).days > 62:
                raise ValidationError("search at most two months at a time", "to_date")


MAX_LIST_DAYS = 93  # a quarter: a day sheet, a week, a month's schedule; a year is asked page by page


class ListSchema(Schema):
    site_id = fields.String(load_default=None, allow_none=True, validate=ID)
    clinician_id = fields.String(load_default=None, allow_none=True, validate=ID)
    client_id = fields.String(load_default=None, allow_none=True, validate=ID)
    starts_from = fields.AwareDateTime(required=True, validate=WHEN, metadata=formats.INSTANT)
    starts_before = fields.AwareDateTime(required=True, validate=WHEN, metadata=formats.INSTANT)

    @validates_schema
    def narrowed(self, data, **kwargs):
        if not (data.get("site_id") or data.get("clinician_id") or data.get("client_id")):
            raise ValidationError("name a site, a clinician or a client", "site_id")
        start, end = data.get("starts_from"), data.get("starts_before")
        if start and end:
            if end <= start:
                raise ValidationError("must be after starts_from", "starts_before")
            if (end - start).days > MAX_LIST_DAYS:
                raise ValidationError(f"list at most {MAX_LIST_DAYS} days at a time", "starts_before")


class DaySheetSchema(Schema):
    """A day (or up to a week) of appointments in each site's local time. Without
    a site or clinician: a clinician's own day, site staff's sites."""

    site_id = fields.String(load_default=None, allow_none=True, validate=ID)
    clinician_id = fields.String(load_default=None, allow_none=True, validate=ID)
    date = fields.Date(load_default=None, allow_none=True, validate=DAYS,
                       metadata={**formats.CALENDAR_DATE, "description": "the site's today if not given"})
    days = fields.Integer(load_default=1, validate=validate.Range(min=1, max=7))


class ExceptionListSchema(paged("starts")):
    site_id = fields.String(load_default=None, allow_none=True, validate=ID)
    clinician_id = fields.String(load_default=None, allow_none=True, validate=ID)
    ends_after = fields.AwareDateTime(load_default=None, allow_none=True, validate=WHEN, metadata={
        **formats.INSTANT, "description": "default: now (leave still to come or under way)"})


WAITLIST_STATUSES = ("waiting", "offered", "booked", "removed")


class WaitlistListSchema(paged("created")):
    site_id = fields.String(load_default=None, allow_none=True, validate=ID)
    clinician_id = fields.String(load_default=None, allow_none=True, validate=ID)
    service_kind = ServiceKind(load_default=None, allow_none=True)
    status = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(WAITLIST_STATUSES),
                           metadata={"description": "default: waiting and offered"})


class RemovalSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=200))


class MyAppointmentsSchema(paged("starts")):
    when = fields.String(load_default="upcoming", validate=validate.OneOf(("upcoming", "past")),
                         metadata={"description": "upcoming: the soonest first; past: the latest first"})


class PortalRequestSchema(Schema):
    """A client asks for a time from the free slots (``GET /slots``) for themself."""

    OPENAPI = {"example": {"site_id": "north", "clinician_id": "dr-ana-ruiz",
                           "service_kind": "individual_psychotherapy", "modality": "telehealth",
                           "client_jurisdiction": "US-NY", "starts_at": "2027-01-05T15:00:00Z"}}

    site_id = fields.String(required=True, validate=ID)
    clinician_id = fields.String(required=True, validate=ID)
    service_kind = ServiceKind(required=True)
    modality = fields.String(load_default="in_person", validate=validate.OneOf(("in_person", "telehealth")))
    client_jurisdiction = Jurisdiction(load_default=None, allow_none=True,
                                       metadata={"description": "telehealth: where you will be"})
    starts_at = fields.AwareDateTime(required=True, validate=WHEN, metadata=formats.INSTANT)
    planned_minutes = formats.Integer(load_default=50, validate=validate.Range(min=15, max=120))

    @validates_schema
    def where(self, data, **kwargs):
        if data.get("modality") == "telehealth" and not data.get("client_jurisdiction"):
            raise ValidationError("required for telehealth: where you will be", "client_jurisdiction")


class WaitlistSchema(Schema):
    site_id = fields.String(required=True, validate=ID)
    service_kind = ServiceKind(required=True)
    client_id = fields.String(required=True, validate=ID)
    clinician_id = fields.String(load_default=None, allow_none=True, validate=ID)
