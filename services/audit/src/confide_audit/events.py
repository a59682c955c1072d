"""The audit service's own event: a checkpoint was signed (no other service
consumes it yet; a witness or monitor will)."""

from __future__ import annotations

from confide_events import registry
from marshmallow import Schema, fields, validate

CHECKPOINT_SIGNED = "audit.checkpoint.signed"


@registry.event_type(CHECKPOINT_SIGNED, version=1)
class CheckpointSignedV1(Schema):
    chain = fields.Integer(required=True, validate=validate.Range(min=0))
    size = fields.Integer(required=True, validate=validate.Range(min=1))
    root_hash = fields.String(required=True)
    origin = fields.String(required=True)
    note = fields.String(required=True)
