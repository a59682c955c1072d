"""Events credentialing publishes that other services keep projections of."""

from confide_events import registry
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

SUPERVISION_STARTED = "credentialing.supervision.started"
SUPERVISION_ENDED = "credentialing.supervision.ended"

JURISDICTION = validate.Regexp(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$", error="an ISO 3166-2 code such as US-NY")


class _Supervision(Schema):
    supervision_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    supervisor_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    supervisee_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    jurisdiction = fields.String(required=True, validate=JURISDICTION)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def order(self, data, **kwargs):
        if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
            raise ValidationError("must not be before starts_on", "ends_on")
        if data.get("supervisor_id") == data.get("supervisee_id"):
            raise ValidationError("a clinician cannot supervise themself", "supervisee_id")


@registry.event_type(SUPERVISION_STARTED, version=1)
class SupervisionStartedV1(_Supervision):
    pass


@registry.event_type(SUPERVISION_ENDED, version=1)
class SupervisionEndedV1(_Supervision):
    ends_on = fields.Date(required=True)


CLINICIAN_REGISTERED = "credentialing.clinician.registered"


@registry.event_type(CLINICIAN_REGISTERED, version=1)
class ClinicianRegisteredV1(Schema):
    """Who a clinician is, for the services that name them (billing's claims)."""

    clinician_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    given_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    family_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    national_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(equal=10))
    home_site_id = fields.String(required=True, validate=validate.Length(min=1, max=200))


LICENSE_RECORDED = "credentialing.license.recorded"
LICENSE_VERIFIED = "credentialing.license.verified"
LICENSE_RENEWED = "credentialing.license.renewed"
LICENSE_EXPIRING = "credentialing.license.expiring"
LICENSE_EXPIRED = "credentialing.license.expired"
LICENSE_SUSPENDED = "credentialing.license.suspended"
LICENSE_REINSTATED = "credentialing.license.reinstated"
LICENSE_REVOKED = "credentialing.license.revoked"
LICENSE_EVENTS = (LICENSE_RECORDED, LICENSE_VERIFIED, LICENSE_RENEWED, LICENSE_EXPIRING, LICENSE_EXPIRED,
                  LICENSE_SUSPENDED, LICENSE_REINSTATED, LICENSE_REVOKED)


class LicenseV1(Schema):
    """A licence as it stands after the change the event type names: enough for
    a consumer (scheduling) to keep its own answer to "may C practise in J"."""

    license_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    clinician_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    credential_type = fields.String(required=True, validate=validate.Length(min=1, max=40))
    jurisdiction = fields.String(required=True, validate=JURISDICTION)
    number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    status = fields.String(required=True, validate=validate.OneOf(
        ("pending", "active", "expired", "suspended", "revoked")))
    issued_on = fields.Date(required=True)
    expires_on = fields.Date(required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    days_left = fields.Integer(load_default=None, allow_none=True)


for _type in LICENSE_EVENTS:
    registry.register(_type, 1, LicenseV1)
