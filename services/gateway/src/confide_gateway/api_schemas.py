"""Schemas the gateway adds to the API: for RPCs that take loose arguments
rather than one object, and for the gateway's own answers (problems). They
document the shape; the owning service still validates every value."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=500))


class BreakGlassSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=10, max=1000))
    minutes = fields.Integer(load_default=60, validate=validate.Range(min=5, max=240))


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


class InclusionSchema(Schema):
    chain = fields.Integer(required=True, validate=validate.Range(min=0, max=32767))
    seq = fields.Integer(required=True, validate=validate.Range(min=0, max=2**62))
    tree_size = fields.Integer(validate=validate.Range(min=1, max=2**62))


class ConsistencySchema(Schema):
    chain = fields.Integer(required=True, validate=validate.Range(min=0, max=32767))
    old_size = fields.Integer(required=True, validate=validate.Range(min=1, max=2**62))
    new_size = fields.Integer(required=True, validate=validate.Range(min=1, max=2**62))


class ExportSchema(Schema):
    format = fields.String(required=True, validate=validate.OneOf(("csv", "jsonl", "fhir")))
    client_id = fields.String()
    actor_id = fields.String()
    resource_type = fields.String()
    outcome = fields.String(validate=validate.OneOf(("allowed", "denied")))
    site_id = fields.String()
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()


class ProblemSchema(Schema):
    """RFC 9457 problem details; ``errors`` names each bad field."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    trace_id = fields.String()
