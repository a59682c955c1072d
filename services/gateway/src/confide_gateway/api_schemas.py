"""Schemas the gateway adds to the API: for RPCs that take loose arguments
rather than one object, and for the gateway's own answers (problems). They
document the shape; the owning service still validates every value."""

from __future__ import annotations

from confide_contracts.rpc.audit import QuerySchema
from marshmallow import Schema, fields, validate


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=500))


class EndSupervisionSchema(Schema):
    ends_on = fields.Date(required=True)


class OfferAnswerSchema(Schema):
    accept = fields.Boolean(required=True)


class DisclosureSchema(Schema):
    consent_id = fields.UUID(required=True)


class ClaimSchema(Schema):
    appointment_id = fields.UUID(required=True)
    client_id = fields.UUID(required=True)


class ExpiringSchema(Schema):
    within_days = fields.Integer(load_default=90, validate=validate.Range(min=1, max=730))


class ReviewQueueSchema(Schema):
    status = fields.String(load_default="pending", validate=validate.OneOf(("pending", "justified", "unjustified")))


class PageSchema(Schema):
    cursor = fields.String(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class RangeSchema(Schema):
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    limit = fields.Integer(validate=validate.Range(min=1, max=10000))


class ExportSchema(QuerySchema):
    """The audit query's filters, and the format; the gateway pages itself."""

    class Meta:
        exclude = ("cursor", "limit", "order")

    format = fields.String(required=True, validate=validate.OneOf(("csv", "jsonl", "fhir")))


class ProblemSchema(Schema):
    """RFC 9457 problem details; ``errors`` names each bad field."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    trace_id = fields.String()
