"""What the credentialing service's RPCs accept; errors name the field."""

from __future__ import annotations

from datetime import date

from confide_licensure.catalogue import MODALITIES
from confide_licensure.fields import CredentialType as CredentialTypeField
from confide_licensure.fields import Jurisdiction
from confide_licensure.fields import ServiceKind as ServiceKindField
from confide_licensure.identifiers import npi_is_valid
from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from confide_contracts.paging import paged
from confide_contracts.rpc import formats

NAME = validate.Length(min=1, max=200)
ID = validate.Length(min=1, max=200)


class ClinicianSchema(Schema):
    id = fields.String(required=True, validate=ID)
    given_name = fields.String(required=True, validate=NAME)
    family_name = fields.String(required=True, validate=NAME)
    national_id = fields.String(load_default=None, allow_none=True, metadata=formats.NPI)
    home_site_id = fields.String(required=True, validate=ID)
    email = fields.Email(load_default=None, allow_none=True)

    @validates("national_id")
    def npi(self, value, **kwargs):
        if value is not None and not npi_is_valid(value):
            raise ValidationError("is not a valid NPI (10 digits with a Luhn check digit)")


class LicenseSchema(Schema):
    type = CredentialTypeField(required=True)
    jurisdiction = Jurisdiction(required=True)
    number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    issued_on = fields.Date(required=True, metadata=formats.PAST_DATE)
    expires_on = fields.Date(required=True)

    @validates("issued_on")
    def issued_in_past(self, value, **kwargs):
        if value > date.today():
            raise ValidationError("must not be in the future")

    @validates_schema
    def order(self, data, **kwargs):
        if data.get("issued_on") and data.get("expires_on") and data["expires_on"] <= data["issued_on"]:
            raise ValidationError("must be after issued_on", "expires_on")


class VerificationSchema(Schema):
    source = fields.String(required=True, validate=validate.Length(min=2, max=300))
    reference = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    result = fields.String(required=True, validate=validate.OneOf(("verified", "discrepancy", "not_found")))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class RenewalSchema(Schema):
    expires_on = fields.Date(required=True)
    verification = fields.Nested(VerificationSchema, required=True)


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=500))


class SupervisionSchema(Schema):
    supervisor_id = fields.String(required=True, validate=ID)
    supervisee_id = fields.String(required=True, validate=ID)
    jurisdiction = Jurisdiction(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def sane(self, data, **kwargs):
        if data.get("supervisor_id") == data.get("supervisee_id"):
            raise ValidationError("a clinician cannot supervise themself", "supervisee_id")
        if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
            raise ValidationError("must not be before starts_on", "ends_on")


class QuestionSchema(Schema):
    service_kind = ServiceKindField(required=True)
    client_jurisdiction = Jurisdiction(required=True)
    modality = fields.String(required=True, validate=validate.OneOf(MODALITIES))
    on = fields.Date(load_default=date.today)


class MatrixSchema(Schema):
    clinician_ids = fields.List(fields.String(validate=ID), required=True, validate=validate.Length(min=1, max=500))
    jurisdictions = fields.List(Jurisdiction(), required=True, validate=validate.Length(min=1, max=100))
    service_kind = ServiceKindField(required=True)
    modality = fields.String(required=True, validate=validate.OneOf(MODALITIES))
    on = fields.Date(load_default=date.today)


LICENCE_STATUSES = ("pending", "active", "suspended", "revoked", "expired")


class ClinicianListSchema(paged("name", "id")):
    home_site_id = fields.String(load_default=None, allow_none=True, validate=ID)
    name = fields.String(load_default=None, allow_none=True, validate=NAME,
                         metadata={"description": "the start of a given or family name"})
    licensed_in = Jurisdiction(load_default=None, allow_none=True,
                               metadata={"description": "holding a licence in force there"})


class LicenseListSchema(paged("expires", "clinician")):
    clinician_id = fields.String(load_default=None, allow_none=True, validate=ID)
    jurisdiction = Jurisdiction(load_default=None, allow_none=True)
    status = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(LICENCE_STATUSES))
    expires_before = fields.Date(load_default=None, allow_none=True)


class SupervisionListSchema(paged("starts")):
    supervisor_id = fields.String(load_default=None, allow_none=True, validate=ID)
    supervisee_id = fields.String(load_default=None, allow_none=True, validate=ID)
    on = fields.Date(load_default=None, allow_none=True, metadata={"description": "only those in force that day"})
