"""What the audit service's RPCs accept, and the filters of the trail's queries; errors name the field."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from confide_contracts.rpc import formats
from confide_contracts.vocabulary import Action, Outcome, Purpose

CHAINS = validate.Range(min=0, max=32767)  # a smallint
POSITION = 2**62


class InclusionSchema(Schema):
    """An inclusion proof of entry ``seq`` of ``chain`` in the checkpoint of
    ``tree_size`` (default: the latest)."""

    chain = formats.Integer(required=True, strict=True, validate=CHAINS)
    seq = formats.Integer(required=True, strict=True, validate=validate.Range(min=0, max=POSITION))
    tree_size = formats.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=POSITION))


class ConsistencySchema(Schema):
    """A consistency proof between the checkpoints of two sizes of ``chain``."""

    chain = formats.Integer(required=True, strict=True, validate=CHAINS)
    old_size = formats.Integer(required=True, strict=True, validate=validate.Range(min=1, max=POSITION))
    new_size = formats.Integer(required=True, strict=True, validate=validate.Range(min=1, max=POSITION))


class TileSchema(Schema):
    """A C2SP tlog-tiles hash tile: ``level`` (0: leaf hashes), ``index`` within
    the level, ``width`` (256, or fewer for the partial tile at the tree's edge)."""

    chain = formats.Integer(required=True, strict=True, validate=CHAINS)
    level = formats.Integer(required=True, strict=True, validate=validate.Range(min=0, max=7))
    index = formats.Integer(required=True, strict=True, validate=validate.Range(min=0, max=POSITION))
    width = formats.Integer(load_default=256, strict=True, validate=validate.Range(min=1, max=256))


class AfterHoursSchema(Schema):
    time_zone = fields.String(required=True, metadata=formats.TIME_ZONE)
    opens = formats.Integer(load_default=8, validate=validate.Range(min=0, max=23))
    closes = formats.Integer(load_default=18, validate=validate.Range(min=1, max=24))
    site_id = fields.String(load_default=None, allow_none=True)
    limit = formats.Integer(load_default=1000, validate=validate.Range(min=1, max=10000))

    @validates_schema
    def hours_make_sense(self, data, **kwargs):
        from zoneinfo import ZoneInfo

        errors: dict[str, list[str]] = {}
        try:
            ZoneInfo(data.get("time_zone", ""))
        except (ValueError, KeyError, OSError):
            errors["time_zone"] = ["not an IANA time zone, e.g. America/Chicago"]
        if data.get("opens", 8) >= data.get("closes", 18):
            errors["closes"] = ["must be later than opens"]
        if errors:
            raise ValidationError(errors)


class QuerySchema(Schema):
    """Filters a compliance officer may combine; all optional."""

    client_id = fields.String(validate=validate.Length(min=1, max=200))
    producer = fields.String(validate=validate.Length(min=1, max=64))
    actor_id = fields.String(validate=validate.Length(min=1, max=200))
    actor_role = fields.String(validate=validate.Length(min=1, max=64))
    resource_type = fields.String(validate=validate.Length(min=1, max=64))
    resource_id = fields.String(validate=validate.Length(min=1, max=200))
    action = fields.Enum(Action, by_value=True)
    outcome = fields.Enum(Outcome, by_value=True)
    purpose = fields.Enum(Purpose, by_value=True)
    break_glass = fields.Boolean()
    site_id = fields.String(validate=validate.Length(min=1, max=64))
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    order = fields.String(load_default="asc", validate=validate.OneOf(["asc", "desc"]))
    limit = formats.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    cursor = fields.String(load_default=None, allow_none=True)

    @validates_schema
    def range_is_forward(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ValidationError("must be after since", "until")


class LegalHoldSchema(Schema):
    """A legal hold: on one client's entries, or (no client) on the whole log."""

    client_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))


class ReleaseSchema(Schema):
    hold_id = fields.UUID(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))


class UnreviewedSchema(Schema):
    older_than_hours = formats.Integer(load_default=0, validate=validate.Range(min=0, max=24 * 365))
    limit = formats.Integer(load_default=1000, validate=validate.Range(min=1, max=10000))
