"""The RPC schemas' rules that the OpenAPI document states (confide_contracts.rpc)."""

import pytest
from confide_contracts.rpc import billing, formats, scheduling
from marshmallow import ValidationError

pytestmark = pytest.mark.unit

PAYMENT = {"client_id": "c-1", "amount_minor": 5000, "currency": "USD", "method": "card"}


def test_a_whole_number_may_be_written_with_a_zero_fraction_but_not_with_another():
    assert billing.PaymentSchema().load({**PAYMENT, "amount_minor": 5000.0})["amount_minor"] == 5000
    for bad in (5000.5, "5000", True):
        with pytest.raises(ValidationError) as refused:
            billing.PaymentSchema().load({**PAYMENT, "amount_minor": bad})
        assert "amount_minor" in refused.value.messages


def test_no_amount_leaves_what_a_balance_can_hold():
    """Payments at a bigint's limit once added up past 64 bits and answered 500 (found by fuzzing)."""
    with pytest.raises(ValidationError) as refused:
        billing.PaymentSchema().load({**PAYMENT, "amount_minor": billing.MONEY_MAX + 1})
    assert "amount_minor" in refused.value.messages
    assert billing.MONEY_MAX * 10**6 < 2**63  # a million payments at the limit still fit


def test_the_named_formats_are_the_lists_the_schemas_check():
    site = {"id": "north", "name": "North", "jurisdiction": "US-NY", "late_cancel_hours": 24}
    for zone in formats.zone_names()[::37]:
        scheduling.SiteSchema().load({**site, "time_zone": zone})
    for code in formats.currency_codes()[::11]:
        billing.PaymentSchema().load({**PAYMENT, "currency": code})
