"""The access policy as a pure function (the service-level matrix is in
test_access_matrix.py)."""

import pytest
from confide_access import CallerSchema
from confide_records.domain.policy import (
    Kind,
    Relation,
    guardian_rights,
    may_act_for,
    may_approve_guardian,
    may_read,
    may_redeem,
    may_register,
    may_write,
)
from confide_records.linking import code_digest, new_code
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.unit  # pure: no PostgreSQL, RabbitMQ or OpenBao

HOME = "site-a"


def who(role, sites=(HOME,), user_id="u-1", **extra):
    return CallerSchema().load({"user_id": user_id, "role": role, "sites": list(sites), **extra})


def rel(**facts):
    return Relation(client_id="c-1", home_site=HOME, **facts)


def test_a_login_is_linked_only_by_the_person_signed_in_as_a_client():
    assert may_redeem(who("client", ())).allowed
    for role in ("front_desk", "admin", "clinician", "supervisor", "compliance_officer", "biller"):
        assert not may_redeem(who(role)).allowed, role


def test_guardians_clinical_rights_wait_for_a_clinician_on_the_care_team():
    asked = ["notes", "demographics", "diagnoses", "consents"]
    assert guardian_rights(who("front_desk"), asked) == (["consents", "demographics"], ["diagnoses", "notes"])
    assert guardian_rights(who("admin"), asked)[1] == ["diagnoses", "notes"]
    assert guardian_rights(who("clinician"), asked) == (sorted(asked), [])
    assert may_approve_guardian(who("clinician"), rel(on_care_team=True)).allowed
    assert not may_approve_guardian(who("clinician"), rel()).allowed
    assert not may_approve_guardian(who("supervisor"), rel(supervises_care_team=True)).allowed
    assert not may_approve_guardian(who("front_desk"), rel(on_care_team=True)).allowed


def test_acting_for_someone_needs_a_recorded_relation():
    assert may_act_for(who("client", ()), "c-1", "guardian").allowed
    decision = may_act_for(who("supervisor"), "dr-2", "supervisor")
    assert decision.recorded == "supervisor: acts on behalf of dr-2 as supervisor"
    for role in ("front_desk", "clinician", "admin", "client"):
        assert not may_act_for(who(role), "dr-2", None).allowed


def test_invitation_codes_are_long_random_and_read_however_typed():
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    code = codes.pop()
    assert len(code) == 19 and code.count("-") == 3
    assert code_digest(code) == code_digest(code.lower().replace("-", "")) != code_digest(codes.pop())


def test_psychotherapy_notes_are_for_their_author_only():
    assert may_read(who("clinician"), Kind.PSYCHOTHERAPY_NOTES, rel(on_care_team=True), author_id="u-1").allowed
    assert not may_read(who("clinician"), Kind.PSYCHOTHERAPY_NOTES, rel(on_care_team=True), author_id="u-2").allowed
    assert not may_read(who("supervisor"), Kind.PSYCHOTHERAPY_NOTES, rel(supervises_care_team=True),
                        author_id="u-2").allowed
    glass = rel(break_glass_reason="client in crisis, on call")
    assert not may_read(who("clinician"), Kind.PSYCHOTHERAPY_NOTES, glass, author_id="u-2").allowed
    assert not may_read(who("client"), Kind.PSYCHOTHERAPY_NOTES, rel(is_client=True), author_id="u-2").allowed


def test_break_the_glass_is_flagged_and_carries_its_reason():
    decision = may_read(who("clinician"), Kind.NOTES, rel(break_glass_reason="client in crisis, on call"))
    assert decision.allowed and decision.break_glass
    effective = decision.effective(who("clinician"), rel(break_glass_reason="client in crisis, on call"))
    assert effective.breaking_glass and effective.purpose == "emergency"
    assert not may_write(who("clinician"), Kind.NOTES, rel(break_glass_reason="client in crisis, on call")).allowed


def test_site_scope_for_staff():
    assert may_read(who("front_desk"), Kind.DEMOGRAPHICS, rel()).allowed
    assert not may_read(who("front_desk", sites=("site-b",)), Kind.DEMOGRAPHICS, rel()).allowed
    assert may_write(who("admin"), Kind.CARE_TEAM, rel()).allowed
    assert not may_write(who("admin", sites=("site-b",)), Kind.CARE_TEAM, rel()).allowed
    assert may_register(who("front_desk"), HOME).allowed and not may_register(who("biller"), HOME).allowed


def test_guardians_see_what_is_recorded():
    guardian = rel(guardian_may_see=frozenset({"demographics"}))
    assert may_read(who("client"), Kind.DEMOGRAPHICS, guardian).allowed
    assert not may_read(who("client"), Kind.NOTES, guardian).allowed


NON_CLINICAL = ["front_desk", "biller", "admin", "compliance_officer", "credentialing_officer", "system"]


@given(role=st.sampled_from(NON_CLINICAL), kind=st.sampled_from([Kind.NOTES, Kind.TREATMENT_PLANS,
                                                                  Kind.PSYCHOTHERAPY_NOTES]),
       on_team=st.booleans(), glass=st.booleans())
def test_non_clinical_staff_never_see_clinical_text(role, kind, on_team, glass):
    relation = rel(on_care_team=on_team, break_glass_reason="client in crisis, on call" if glass else None)
    assert not may_read(who(role), kind, relation, author_id="u-1").allowed
