"""The access event: shaped after FHIR AuditEvent / IHE ATNA (who, what, where,
when, why, outcome), and the caller identity every service receives."""

from __future__ import annotations

from dataclasses import dataclass, field

from confide_contracts.vocabulary import Action, Outcome, Purpose
from confide_events import Actor, registry
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

ACCESS_EVENT_TYPE = "*.access.recorded"


def access_event_type(service: str) -> str:
    return f"{service}.access.recorded"


ROLES = (
    "clinician",
    "supervisor",
    "front_desk",
    "biller",
    "credentialing_officer",
    "compliance_officer",
    "admin",
    "client",
    "monitor",  # someone outside the clinic following the trail's checkpoints: hashes, never an entry
    "system",
)


# why each role may say it is acting (X-Purpose-Of-Use). Two purposes are never
# the caller's to claim: "emergency" is set by an open break-the-glass grant and
# "disclosure" by the disclosure operation itself -- each enters reports
# (break-the-glass review, the accounting of disclosures) that must not be padded.
PURPOSES_BY_ROLE = {
    "clinician": (Purpose.TREATMENT, Purpose.OPERATIONS),
    "supervisor": (Purpose.TREATMENT, Purpose.OPERATIONS),
    "front_desk": (Purpose.OPERATIONS, Purpose.PAYMENT),
    "biller": (Purpose.PAYMENT, Purpose.OPERATIONS),
    "credentialing_officer": (Purpose.OPERATIONS,),
    "compliance_officer": (Purpose.OPERATIONS,),
    "admin": (Purpose.OPERATIONS,),
    "client": (Purpose.CLIENT_REQUEST,),
    "monitor": (Purpose.OPERATIONS,),
    "system": (Purpose.OPERATIONS, Purpose.PAYMENT, Purpose.TREATMENT),
}


def default_purpose(role: str) -> Purpose:
    """What a role acts for when it does not say."""
    return PURPOSES_BY_ROLE.get(role, (Purpose.TREATMENT,))[0]


def purpose_refused(role: str, purpose: str) -> str | None:
    """Why ``role`` may not claim ``purpose``, or None."""
    allowed = PURPOSES_BY_ROLE.get(role, ())
    if purpose in allowed:
        return None
    return f"a {role} may act for {', '.join(str(p) for p in allowed) or 'no purpose'}, not {purpose}"


@dataclass(frozen=True)
class Caller:
    """Who is asking, as the gateway authenticated them."""

    user_id: str
    role: str
    sites: tuple[str, ...] = ()
    on_behalf_of: str | None = None
    source_address: str | None = None
    user_agent: str | None = None
    purpose: Purpose = Purpose.TREATMENT
    break_glass_reason: str | None = None
    # the verified assertion this caller came in (forwarded on onward calls), and its trace
    assertion: str | None = field(default=None, repr=False, compare=False)
    trace: str | None = field(default=None, compare=False)

    @property
    def actor(self) -> Actor:
        return Actor(id=self.user_id, role=self.role, on_behalf_of=self.on_behalf_of)

    @property
    def breaking_glass(self) -> bool:
        return bool(self.break_glass_reason)


class CallerSchema(Schema):
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    sites = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list)
    on_behalf_of = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    source_address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    user_agent = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=512))
    purpose = fields.Enum(Purpose, by_value=True, load_default=Purpose.TREATMENT)
    break_glass_reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=10, max=1000))

    @post_load
    def make(self, data, **kwargs) -> Caller:
        data["sites"] = tuple(data["sites"])
        return Caller(**data)


@registry.event_type(ACCESS_EVENT_TYPE, version=1)
class AccessRecordedV1(Schema):
    action = fields.Enum(Action, by_value=True, required=True)
    outcome = fields.Enum(Outcome, by_value=True, required=True)
    resource_type = fields.String(required=True, validate=validate.Length(min=1, max=64))
    resource_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    client_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    purpose = fields.Enum(Purpose, by_value=True, required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    break_glass = fields.Boolean(load_default=False)
    break_glass_reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    source_address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    user_agent = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=512))
    recipient = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))

    @validates_schema
    def denied_needs_reason(self, data, **kwargs):
        if data.get("outcome") == Outcome.DENIED and not data.get("reason"):
            raise ValidationError("a denied access needs a reason", "reason")
        if data.get("break_glass") and not data.get("break_glass_reason"):
            raise ValidationError("break-the-glass needs a stated reason", "break_glass_reason")
        if data.get("action") == Action.DISCLOSE and data.get("outcome") == Outcome.ALLOWED \
                and not data.get("recipient"):
            raise ValidationError("a disclosure names its recipient", "recipient")
