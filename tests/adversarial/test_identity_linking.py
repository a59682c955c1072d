"""A login reaches a client's record only by an invitation the person redeems,
signed in as themselves: front desk and admins cannot put a login on a record
(once they could set ``user_id`` and then read the record as that client or
guardian), and a guardian's clinical rights wait for a clinician."""

from __future__ import annotations

from confide_testing import random_id, wait_until

CLIENT = {"given_name": "Robin", "family_name": "Hale", "date_of_birth": "2012-04-02", "home_site_id": "north"}


def test_front_desk_cannot_link_a_login(gateway_with):
    gw = gateway_with("records", "audit")
    desk, admin = gw.token("front_desk"), gw.token("admin")
    mallory = random_id("mallory")
    for token in (desk, admin):
        answer = gw.call("POST", "/api/v1/clients", token, json={**CLIENT, "user_id": mallory})
        assert answer.status_code == 400 and "user_id" in answer.json()["errors"], answer.text
    robin = gw.call("POST", "/api/v1/clients", desk, json=CLIENT).json()["id"]
    for method, path, body in (("PATCH", f"/api/v1/clients/{robin}", {"user_id": mallory}),
                               ("POST", f"/api/v1/clients/{robin}/guardians",
                                {"name": "M", "relationship": "other", "may_see": ["notes"], "user_id": mallory})):
        answer = gw.call(method, path, desk, json=body)
        assert answer.status_code == 400 and "user_id" in answer.json()["errors"], answer.text

    # the desk makes a code, but cannot redeem it as anyone: the person does, signed in as themselves
    invitation = gw.call("POST", f"/api/v1/clients/{robin}/invitations", desk, json={})
    assert invitation.status_code == 201, invitation.text
    code = invitation.json()["code"]
    for role in ("front_desk", "admin", "clinician"):
        refused = gw.call("POST", "/api/v1/me/record-link", gw.token(role, user=mallory), json={"code": code})
        assert refused.status_code == 403, (role, refused.text)
    robin_login = random_id("client-robin")
    me = gw.token("client", sites=(), user=robin_login)
    assert gw.call("GET", f"/api/v1/clients/{robin}", me).status_code == 403
    linked = gw.call("POST", "/api/v1/me/record-link", me, json={"code": code})
    assert linked.status_code == 200 and linked.json()["linked_as"] == "client", linked.text
    assert gw.call("GET", f"/api/v1/clients/{robin}", me).status_code == 200
    # once only, for anyone
    again = gw.call("POST", "/api/v1/me/record-link", gw.token("client", sites=(), user=mallory), json={"code": code})
    assert again.status_code == 403 and "no open invitation" in again.json()["detail"]
    assert gw.call("POST", f"/api/v1/clients/{robin}/invitations", desk, json={}).status_code == 409

    # the link, the refusals and the failed redemption are all in the trail
    officer = gw.token("compliance_officer", sites=())
    entries = wait_until(lambda: [e for e in gw.call("GET", "/api/v1/audit/entries", officer,
                                                     params={"client_id": robin, "limit": 100}).json()["entries"]
                                  if e["resource_type"] == "Client" and e["action"] == "update"],
                         what="the link in the trail")
    assert entries[0]["actor_id"] == robin_login and "login linked as client" in entries[0]["reason"]
    def refused_redemptions():  # (the trail takes them in as they arrive: wait for all four, not the first)
        found = gw.call("GET", "/api/v1/audit/entries", officer, params={
            "actor_id": mallory, "outcome": "denied", "limit": 100}).json()["entries"]
        return found if len(found) >= 4 else None

    refusals = wait_until(refused_redemptions, what="the four refused redemptions in the trail")
    assert {e["resource_type"] for e in refusals} == {"LoginInvitation"} and len(refusals) == 4


def test_guardian_clinical_rights_wait_for_a_clinician(gateway_with):
    gw = gateway_with("records")
    desk = gw.token("front_desk")
    ana = random_id("dr-ana")
    robin = gw.call("POST", "/api/v1/clients", desk, json=CLIENT).json()["id"]
    assert gw.call("POST", f"/api/v1/clients/{robin}/care-team", desk,
                   json={"clinician_id": ana, "role": "primary"}).status_code == 201
    guardian = gw.call("POST", f"/api/v1/clients/{robin}/guardians", desk, json={
        "name": "Pat Hale", "relationship": "parent", "may_see": ["demographics", "notes"]}).json()
    assert (guardian["may_see"], guardian["requested"], guardian["login_linked"]) == (["demographics"], ["notes"],
                                                                                      False)
    code = gw.call("POST", f"/api/v1/clients/{robin}/invitations", desk,
                   json={"guardian_id": guardian["id"]}).json()["code"]
    pat = gw.token("client", sites=(), user=random_id("guardian-pat"))
    linked = gw.call("POST", "/api/v1/me/record-link", pat, json={"code": code.lower().replace("-", "")}).json()
    assert (linked["linked_as"], linked["guardian_id"]) == ("guardian", guardian["id"])
    assert gw.call("GET", f"/api/v1/clients/{robin}", pat).status_code == 200
    assert gw.call("GET", f"/api/v1/clients/{robin}/notes", pat).status_code == 403
    # acting on behalf of someone rests on a recorded relation, not on the header
    assert gw.call("GET", f"/api/v1/clients/{robin}", pat, headers={"X-On-Behalf-Of": robin}).status_code == 200
    for who, whom in ((pat, ana), (desk, robin), (gw.token("clinician", user=ana), robin)):
        assert gw.call("GET", f"/api/v1/clients/{robin}", who, headers={"X-On-Behalf-Of": whom}).status_code == 403

    approval = f"/api/v1/clients/{robin}/guardians/{guardian['id']}/approval"
    for role, user in (("front_desk", None), ("admin", None), ("clinician", None)):  # not on the care team
        assert gw.call("POST", approval, gw.token(role, user=user)).status_code == 403, role
    approved = gw.call("POST", approval, gw.token("clinician", user=ana))
    assert approved.status_code == 200 and approved.json()["may_see"] == ["demographics", "notes"], approved.text
    assert approved.json()["approved_by"] == ana and approved.json()["requested"] == []
    assert gw.call("GET", f"/api/v1/clients/{robin}/notes", pat).status_code == 200
