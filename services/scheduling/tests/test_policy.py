"""Scheduling's access rules and the appointment lifecycle, without a database."""

import pytest
from confide_access import CallerSchema
from confide_contracts.errors import Conflict
from confide_scheduling.domain import policy
from confide_scheduling.domain.appointment import AppointmentStatus as S
from confide_scheduling.domain.appointment import must_be_booked, transition
from confide_testing import caller

pytestmark = pytest.mark.unit


def who(role, sites=("north",), **kw):
    return CallerSchema().load(caller(role, sites, **kw))


def test_desk_books_at_its_sites_clinicians_their_own_sessions():
    assert policy.may_book(who("front_desk"), "north", "dr-a", "book").allowed
    assert not policy.may_book(who("front_desk"), "south", "dr-a", "book").allowed
    assert policy.may_book(who("clinician", user_id="dr-a"), "north", "dr-a", "book").allowed
    assert policy.may_book(who("clinician", user_id="dr-a"), "north", "dr-b", "book").reason == \
        "clinicians book their own sessions only"
    assert not policy.may_book(who("clinician", user_id="dr-a"), "south", "dr-a", "book").allowed
    for role in ("biller", "client", "compliance_officer", "credentialing_officer"):
        assert policy.may_book(who(role), "north", "dr-a", "book").reason == f"role {role} may not book"


def test_leave_holidays_and_sites():
    assert policy.may_record_leave(who("clinician", user_id="dr-a"), "dr-a", None).allowed  # own, everywhere
    assert not policy.may_record_leave(who("front_desk"), "dr-a", None).allowed  # staff name the site
    assert policy.may_record_leave(who("front_desk"), "dr-a", "north").allowed
    assert not policy.may_record_leave(who("front_desk"), None, "north").allowed  # a holiday is an admin's
    assert policy.may_record_leave(who("admin"), None, "north").allowed
    assert not policy.may_administer(who("admin", ("south",)), "north", "add rooms").allowed


def test_reading_appointments_is_site_or_own_session_scoped():
    assert policy.may_read_appointment(who("biller"), "north", ("dr-a", None)).allowed
    assert not policy.may_read_appointment(who("biller"), "south", ("dr-a", None)).allowed
    assert policy.may_read_appointment(who("clinician", user_id="dr-b"), "north", ("dr-a", "dr-b")).allowed
    assert not policy.may_read_appointment(who("client"), "north", ("dr-a", None)).allowed
    assert not policy.may_list_appointments(who("clinician", user_id="dr-a"), None).allowed
    assert policy.sees_site(who("admin"), "north") and not policy.sees_site(who("admin"), "south")


def test_the_lifecycle_moves_forward_only():
    assert transition(S.BOOKED, S.CHECKED_IN) is S.CHECKED_IN
    assert transition(S.CHECKED_IN, S.COMPLETED) is S.COMPLETED
    for current, to in [(S.COMPLETED, S.NO_SHOW), (S.CANCELLED, S.CHECKED_IN), (S.CHECKED_IN, S.NO_SHOW)]:
        with pytest.raises(Conflict) as refused:
            transition(current, to)
        assert refused.value.errors == {"appointment_id": [f"is {current}; cannot become {to}"]}
    must_be_booked(S.BOOKED)
    with pytest.raises(Conflict):
        must_be_booked(S.CHECKED_IN)
