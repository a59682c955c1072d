"""Events billing publishes. Amounts in integer minor units with the currency."""

from confide_events import registry
from marshmallow import Schema, fields, validate

CHARGE_CREATED = "billing.charge.created"
INVOICE_ISSUED = "billing.invoice.issued"
PAYMENT_RECORDED = "billing.payment.recorded"

ID = validate.Length(min=1, max=200)
CURRENCY = validate.Regexp(r"^[A-Z]{3}$")


@registry.event_type(CHARGE_CREATED, version=1)
class ChargeCreatedV1(Schema):
    charge_id = fields.String(required=True, validate=ID)
    client_id = fields.String(required=True, validate=ID)
    appointment_id = fields.String(load_default=None, allow_none=True, validate=ID)
    kind = fields.String(required=True, validate=validate.OneOf(("service", "no_show", "late_cancel", "reversal")))
    code = fields.String(load_default=None, allow_none=True)
    amount_minor = fields.Integer(required=True)
    currency = fields.String(required=True, validate=CURRENCY)


@registry.event_type(INVOICE_ISSUED, version=1)
class InvoiceIssuedV1(Schema):
    invoice_id = fields.String(required=True, validate=ID)
    client_id = fields.String(required=True, validate=ID)
    total_minor = fields.Integer(required=True)
    currency = fields.String(required=True, validate=CURRENCY)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)


@registry.event_type(PAYMENT_RECORDED, version=1)
class PaymentRecordedV1(Schema):
    payment_id = fields.String(required=True, validate=ID)
    client_id = fields.String(required=True, validate=ID)
    kind = fields.String(required=True, validate=validate.OneOf(("payment", "refund")))
    amount_minor = fields.Integer(required=True, validate=validate.Range(min=1))
    currency = fields.String(required=True, validate=CURRENCY)
