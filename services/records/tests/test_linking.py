"""Logins linked by invitation, and acting on behalf of someone only along a
relation records holds (the trail's ``on_behalf_of`` was the caller's word)."""

import pytest
from confide_testing import caller, random_id, wait_for_handled
from nameko.exceptions import RemoteError
from records_support import SITE, start_supervision
from sqlalchemy import text


def refused(call, *args) -> RemoteError:
    with pytest.raises(RemoteError) as error:
        call(*args)
    return error.value


def test_acting_for_someone_only_along_a_recorded_relation(clinic, records_db):
    rpc = clinic.rpc
    supervisor, supervisee = caller("supervisor", (SITE,)), caller("clinician", (SITE,))
    wait_for_handled(records_db, "records.on_supervision", start_supervision(records_db, supervisor, supervisee).id)
    assert rpc.acting_for(supervisor, supervisee["user_id"])["basis"] == "supervisor"
    assert rpc.acting_for(supervisee, supervisor["user_id"])["basis"] == "supervisee"
    stranger = caller("clinician", (SITE,))
    assert refused(rpc.acting_for, stranger, supervisor["user_id"]).exc_type == "AccessDenied"

    pat_login = random_id("guardian-pat")
    clinic.guardian(clinic.client_id, pat_login, ["demographics"])
    pat = caller("client", (), user_id=pat_login, purpose="client_request")
    assert rpc.acting_for(pat, clinic.client_id)["basis"] == "guardian"
    assert rpc.acting_for(pat, clinic.client_user)["basis"] == "guardian"  # the client's own login names them too
    other = clinic.new_client()
    for who, whom in ((pat, other), (clinic.front_desk, clinic.client_id), (clinic.admin, supervisee["user_id"]),
                      (clinic.as_client(), pat_login)):
        assert refused(rpc.acting_for, who, whom).exc_type == "AccessDenied", (who["role"], whom)
    mark = clinic.outbox_mark()
    refused(rpc.acting_for, clinic.front_desk, clinic.client_id)
    [denial] = clinic.access_events(mark)
    assert denial["resource_type"] == "OnBehalfOf" and "no recorded relation" in denial["reason"]


def test_an_invitation_opens_once_and_not_after_it_expires(clinic, records_db):
    rpc, cid = clinic.rpc, clinic.new_client()
    code = rpc.invite_login(clinic.front_desk, cid, {"valid_days": 1})["code"]
    with records_db.begin() as conn:
        conn.execute(text("UPDATE login_invitations SET expires_at = now() - interval '1 second' "
                          "WHERE client_id = :c"), {"c": cid})
    late = caller("client", (), user_id=random_id("late"), purpose="client_request")
    assert "no open invitation" in str(refused(rpc.redeem_invitation, late, code))
    assert refused(rpc.get_client, late, cid).exc_type == "AccessDenied"
    # a login is one client's: the clinic's own client cannot take a second record
    code = rpc.invite_login(clinic.front_desk, cid, {})["code"]
    assert refused(rpc.redeem_invitation, clinic.as_client(), code).exc_type == "Conflict"
    # nor is a code with a typo, a code for another use, or a code of the wrong shape anything but refused
    assert refused(rpc.redeem_invitation, late, "AAAA-AAAA-AAAA-AAAA").exc_type == "AccessDenied"
    assert refused(rpc.redeem_invitation, late, "short").exc_type == "InvalidRequest"


def test_a_new_invitation_ends_the_open_one_and_a_login_is_one_guardian_of_a_client(clinic):
    rpc, cid = clinic.rpc, clinic.new_client()
    first = rpc.invite_login(clinic.front_desk, cid, {})["code"]
    second = rpc.invite_login(clinic.front_desk, cid, {})["code"]  # (the first was lost, or sent astray)
    person = caller("client", (), user_id=random_id("person"), purpose="client_request")
    assert "no open invitation" in str(refused(rpc.redeem_invitation, person, first))
    assert rpc.redeem_invitation(person, second)["linked_as"] == "client"
    pat = random_id("pat")
    clinic.guardian(cid, pat, ["demographics"])
    other = rpc.add_guardian(clinic.front_desk, cid, {"name": "Pat again", "relationship": "other",
                                                      "may_see": ["demographics", "consents"]})
    code = rpc.invite_login(clinic.front_desk, cid, {"guardian_id": other["id"]})["code"]
    login = caller("client", (), user_id=pat, purpose="client_request")
    assert refused(rpc.redeem_invitation, login, code).exc_type == "Conflict"
