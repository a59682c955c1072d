"""Who may reach how far. Before: an admin could read the whole trail and
review break-the-glass grants; any clinician could break the glass on any
client of the network, as often as they liked; any biller could read any
client's books."""

from __future__ import annotations

import uuid

from confide_testing import wait_until

CLIENT = {"given_name": "Robin", "family_name": "Hale", "date_of_birth": "1988-04-02", "home_site_id": "north"}
REASON = {"reason": "Client in crisis in the lobby, on-call cover", "minutes": 30}


def test_an_admin_administers_but_does_not_read_the_trail(gateway_with):
    gw = gateway_with("records", "audit")
    admin = gw.token("admin")
    for path in ("/api/v1/audit/entries", "/api/v1/audit/reports/denied", "/api/v1/break-glass/reviews"):
        assert gw.call("GET", path, admin).status_code == 403, path
    assert gw.call("GET", "/api/v1/audit/verification", admin).status_code == 200  # integrity, no entry


def test_the_glass_breaks_only_at_ones_own_sites_and_a_few_times_a_day(gateway_with):
    gw = gateway_with("records", "audit")
    client = gw.call("POST", "/api/v1/clients", gw.token("front_desk"), json=CLIENT).json()["id"]
    elsewhere = gw.token("clinician", sites=("south",))
    refused = gw.call("POST", f"/api/v1/clients/{client}/break-glass", elsewhere, json=REASON)
    assert refused.status_code == 403
    on_call = gw.token("clinician", sites=("north",))
    answers = [gw.call("POST", f"/api/v1/clients/{client}/break-glass", on_call, json=REASON).status_code
               for _ in range(4)]
    assert answers == [201, 201, 201, 403]


def test_a_biller_of_one_site_cannot_read_another_sites_statement(gateway_with):
    """Billing once answered any biller about any client of the network."""
    gw = gateway_with("records", "billing")
    desk = gw.token("front_desk", sites=("south",))
    theirs = gw.call("POST", "/api/v1/clients", desk, json={
        "given_name": "Jordan", "family_name": "Lee", "date_of_birth": "1975-11-20", "home_site_id": "south"})
    jordan = theirs.json()["id"]
    south = gw.token("biller", sites=("south",))
    wait_until(lambda: gw.call("POST", "/api/v1/accounts", south, json={
        "client_id": jordan, "payer": "self_pay", "currency": "USD"}).status_code == 201,
        what="billing to learn the client's home site")
    assert gw.call("GET", f"/api/v1/clients/{jordan}/statement", south).status_code == 200
    north = gw.token("biller", sites=("north",))
    refused = gw.call("GET", f"/api/v1/clients/{jordan}/statement", north)
    missing = gw.call("GET", f"/api/v1/clients/{uuid.uuid4()}/statement", north)
    assert refused.status_code == missing.status_code == 403, refused.text
    assert "that you may see" in refused.json()["detail"] and "south" not in refused.text
    paying = gw.call("POST", "/api/v1/payments", north, json={"client_id": jordan, "amount_minor": 100,
                                                              "currency": "USD", "method": "cash"})
    assert paying.status_code == 403
