"""Credentialing's rules without a database: a licence's lifecycle and who may
change or query credentials."""

from datetime import date

import pytest
from confide_contracts.errors import Conflict, FieldError
from confide_credentialing.domain import licence, policy
from confide_credentialing.domain.licence import LicenceStatus as S
from confide_testing import caller

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 30)


def test_verification_brings_a_pending_licence_into_force_or_finds_it_expired():
    assert licence.verified(S.PENDING, date(2027, 1, 1), TODAY) == {"status": "active"}
    assert licence.verified(S.PENDING, TODAY, TODAY) == {"status": "expired"}
    assert licence.verified(S.SUSPENDED, date(2027, 1, 1), TODAY) == {}  # verification lifts no suspension


def test_a_renewal_moves_expiry_forward_and_keeps_a_suspension():
    assert licence.renewed(S.EXPIRED, date(2026, 1, 1), date(2028, 1, 1), "verified") == \
        {"expires_on": date(2028, 1, 1), "status": "active"}
    assert licence.renewed(S.SUSPENDED, date(2026, 1, 1), date(2028, 1, 1), "verified")["status"] == "suspended"


@pytest.mark.parametrize("status, old, new, result, field", [
    (S.REVOKED, date(2026, 1, 1), date(2028, 1, 1), "verified", "license_id"),
    (S.ACTIVE, date(2028, 1, 1), date(2027, 1, 1), "verified", "expires_on"),
    (S.ACTIVE, date(2026, 1, 1), date(2028, 1, 1), "not_found", "verification.result"),
])
def test_a_renewal_is_refused_by_field(status, old, new, result, field):
    with pytest.raises(FieldError) as refused:  # bad input, or a licence whose state refuses it
        licence.renewed(status, old, new, result)
    assert list(refused.value.errors) == [field]


def test_suspend_reinstate_revoke():
    assert licence.suspended(S.ACTIVE) == {"status": "suspended"}
    with pytest.raises(Conflict):
        licence.suspended(S.EXPIRED)
    assert licence.reinstated(S.SUSPENDED, True, date(2027, 1, 1), TODAY) == {"status": "active"}
    assert licence.reinstated(S.SUSPENDED, False, date(2027, 1, 1), TODAY) == {"status": "pending"}
    assert licence.reinstated(S.SUSPENDED, True, TODAY, TODAY) == {"status": "expired"}
    with pytest.raises(Conflict):
        licence.reinstated(S.ACTIVE, True, date(2027, 1, 1), TODAY)
    assert licence.revoked(S.SUSPENDED) == {"status": "revoked"}
    with pytest.raises(Conflict):
        licence.revoked(S.REVOKED)


@pytest.mark.parametrize("role, changes, queries", [
    ("credentialing_officer", True, True), ("admin", True, True), ("clinician", False, True),
    ("supervisor", False, True), ("front_desk", False, True), ("biller", False, True),
    ("compliance_officer", False, True), ("client", False, False),
])
def test_who_changes_and_who_queries_credentials(role, changes, queries):
    who = caller(role)
    from confide_access import CallerSchema
    who = CallerSchema().load(who)
    assert policy.may_change_credentials(who).allowed is changes
    assert policy.may_query_licensure(who).allowed is queries
