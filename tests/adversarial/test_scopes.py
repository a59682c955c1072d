"""Who may reach how far. Before: an admin could read the whole trail and
review break-the-glass grants; any clinician could break the glass on any
client of the network, as often as they liked."""

from __future__ import annotations

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
