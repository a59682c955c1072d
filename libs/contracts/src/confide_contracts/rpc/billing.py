"""What the billing service's RPCs accept; errors name the field."""

from __future__ import annotations

import pycountry
from confide_licensure.identifiers import npi_is_valid
from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from confide_contracts.codes.psychotherapy import known_code, table
from confide_contracts.paging import paged
from confide_contracts.rpc import formats

ID = validate.Length(min=1, max=200)


def currency_code(value: str) -> None:
    if not isinstance(value, str) or len(value) != 3 or pycountry.currencies.get(alpha_3=value) is None:
        raise ValidationError(f"{value!r} is not an ISO 4217 currency code such as USD")


Money = formats.Integer  # integer minor units (cents); fractions are refused
# a trillion minor units (ten billion dollars) per amount: far above any clinic's, and low enough that
# no balance, total or sum of them leaves a bigint (or JSON's 64-bit integers)
MONEY_MAX = 10**12
AMOUNT = validate.Range(min=0, max=MONEY_MAX)
POSITIVE = validate.Range(min=1, max=MONEY_MAX, error="must be positive")


class FeeSchema(Schema):
    site_id = fields.String(required=True, validate=ID)
    payer = fields.String(required=True, validate=validate.Length(min=1, max=64))
    code = fields.String(required=True, metadata={"enum": sorted(table()["codes"])})
    amount_minor = Money(required=True, strict=True, validate=AMOUNT)
    currency = fields.String(required=True, validate=currency_code, metadata=formats.CURRENCY)
    effective_from = fields.Date(required=True)
    effective_until = fields.Date(load_default=None, allow_none=True)

    @validates("code")
    def known(self, value, **kwargs):
        if not known_code(value):
            raise ValidationError(f"unknown service code {value!r} (not in the psychotherapy code table)")

    @validates_schema
    def order(self, data, **kwargs):
        if data.get("effective_until") and data.get("effective_from") and \
                data["effective_until"] < data["effective_from"]:
            raise ValidationError("must not be before effective_from", "effective_until")


class FeeEndSchema(Schema):
    effective_until = fields.Date(required=True, metadata={"description": "the last day the fee applies"})


class TierSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    max_income_minor = Money(required=True, strict=True, validate=AMOUNT)
    percent = formats.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100))


class ScaleSchema(Schema):
    site_id = fields.String(required=True, validate=ID)
    currency = fields.String(required=True, validate=currency_code, metadata=formats.CURRENCY)
    tiers = fields.List(fields.Nested(TierSchema), required=True, validate=validate.Length(min=1, max=20))


class PolicySchema(Schema):
    site_id = fields.String(required=True, validate=ID)
    currency = fields.String(required=True, validate=currency_code, metadata=formats.CURRENCY)
    no_show_fee_minor = Money(required=True, strict=True, validate=AMOUNT)
    late_cancel_fee_minor = Money(required=True, strict=True, validate=AMOUNT)


class AccountSchema(Schema):
    client_id = fields.String(required=True, validate=ID)
    payer = fields.String(required=True, validate=validate.Length(min=1, max=64))
    member_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=80))
    annual_income_minor = Money(load_default=None, allow_none=True, strict=True, validate=AMOUNT)
    currency = fields.String(required=True, validate=currency_code, metadata=formats.CURRENCY)


class PaymentSchema(Schema):
    client_id = fields.String(required=True, validate=ID)
    amount_minor = Money(required=True, strict=True, validate=POSITIVE)
    currency = fields.String(required=True, validate=currency_code, metadata=formats.CURRENCY)
    method = fields.String(required=True, validate=validate.OneOf(("card", "cash", "check", "transfer", "insurer")))
    reference = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


class InvoiceRequestSchema(Schema):
    client_id = fields.String(required=True, validate=ID)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)

    @validates_schema
    def order(self, data, **kwargs):
        if data.get("period_end") and data.get("period_start") and data["period_end"] < data["period_start"]:
            raise ValidationError("must not be before period_start", "period_end")


class BillingProviderSchema(Schema):
    site_id = fields.String(required=True, validate=ID)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    npi = fields.String(required=True, metadata=formats.NPI)
    tax_id = fields.String(required=True, validate=validate.Regexp(r"^\d{9}$", error="a 9-digit EIN"))
    address = fields.Dict(required=True)

    @validates("npi")
    def valid_npi(self, value, **kwargs):
        if not npi_is_valid(value):
            raise ValidationError("is not a valid NPI (10 digits with a Luhn check digit)")


class ClaimResultSchema(Schema):
    # what the document states of the rules below
    OPENAPI = {"allOf": [
        {"if": {"properties": {"status": {"const": "paid"}}, "required": ["status"]},
         "then": {"required": ["paid_minor"], "properties": {"paid_minor": {"type": "integer"}}}},
        {"if": {"properties": {"status": {"const": "denied"}}, "required": ["status"]},
         "then": {"required": ["reason"], "properties": {"reason": {"type": "string"}}}},
    ]}

    status = fields.String(required=True, validate=validate.OneOf(("submitted", "paid", "denied")))
    paid_minor = Money(load_default=None, allow_none=True, strict=True, validate=POSITIVE)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=2, max=500))

    @validates_schema
    def complete(self, data, **kwargs):
        if data.get("status") == "paid" and not data.get("paid_minor"):
            raise ValidationError("required when the claim is paid", "paid_minor")
        if data.get("status") == "denied" and not data.get("reason"):
            raise ValidationError("the payer's reason is required when the claim is denied", "reason")


class ClaimRequestSchema(Schema):
    appointment_id = fields.String(required=True, validate=ID)
    client_id = fields.String(required=True, validate=ID)


class _Books(Schema):
    """What every list of the books is narrowed by: a client, a site (the clients' home site), a time."""

    client_id = fields.String(load_default=None, allow_none=True, validate=ID)
    site_id = fields.String(load_default=None, allow_none=True, validate=ID)
    since = fields.AwareDateTime(load_default=None, allow_none=True)
    until = fields.AwareDateTime(load_default=None, allow_none=True)


class InvoiceListSchema(paged("issued"), _Books):
    pass


class PaymentListSchema(paged("received"), _Books):
    kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(("payment", "refund")))


CLAIM_STATUSES = ("ready", "submitted", "paid", "denied")


class ClaimListSchema(paged("updated", "created"), _Books):
    status = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CLAIM_STATUSES))
    payer = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))


class AccountListSchema(paged("client")):
    site_id = fields.String(load_default=None, allow_none=True, validate=ID)
    payer = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))


class FeeListSchema(paged("code")):
    site_id = fields.String(load_default=None, allow_none=True, validate=ID)
    payer = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    on = fields.Date(load_default=None, allow_none=True, metadata={"description": "only fees in force that day"})
