"""Billing's access rules and the claim lifecycle, without a database."""

import pytest
from confide_access import CallerSchema
from confide_billing.domain.claims import ClaimStatus, transition
from confide_billing.domain.policy import Task, may
from confide_contracts.errors import Conflict
from confide_testing import caller

pytestmark = pytest.mark.unit

ROLES = ("biller", "front_desk", "admin", "clinician", "supervisor", "client", "compliance_officer",
         "credentialing_officer")
ALLOWED = {
    "biller": {Task.CHANGE_ACCOUNTS, Task.READ, Task.RECORD_PAYMENTS, Task.REVERSE, Task.INVOICE, Task.REFUND,
               Task.CLAIM, Task.TRACK_CLAIMS},
    "front_desk": {Task.CHANGE_ACCOUNTS, Task.READ, Task.RECORD_PAYMENTS},
    "admin": set(Task),
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_does_only_its_billing_work(role):
    who = CallerSchema().load(caller(role))
    assert {t for t in Task if may(who, t).allowed} == ALLOWED.get(role, set())


def test_a_claim_moves_forward_only():
    assert transition("ready", "submitted") is ClaimStatus.SUBMITTED
    assert transition("submitted", "paid") is ClaimStatus.PAID
    assert transition("submitted", "denied") is ClaimStatus.DENIED
    for current, to in [("ready", "paid"), ("paid", "denied"), ("denied", "submitted"), ("paid", "submitted")]:
        with pytest.raises(Conflict) as refused:
            transition(current, to)
        assert list(refused.value.errors) == ["status"]
