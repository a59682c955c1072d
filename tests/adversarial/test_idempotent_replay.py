"""A retried POST (the same Idempotency-Key) was answered from a stored copy of
the first answer -- decrypted client data kept in the gateway's database with no
expiry -- and replayed with no check and no access event. Now the gateway keeps
the status and the id only, and answers a retry by reading again, as the caller,
through the service that decides."""

from __future__ import annotations

import datetime as dt
import time

from confide_testing import random_id, wait_until
from sqlalchemy import inspect, text

CLIENT = {"given_name": "Robin", "family_name": "Hale", "date_of_birth": "1988-04-02", "home_site_id": "north"}


def test_a_replay_after_the_caller_lost_access_is_refused(gateway_with):
    gw = gateway_with("records", "audit")
    desk, dr = gw.token("front_desk"), random_id("dr")
    clinician = gw.token("clinician", user=dr)
    client = gw.call("POST", "/api/v1/clients", desk, json=CLIENT).json()["id"]
    assert gw.call("POST", f"/api/v1/clients/{client}/care-team", desk,
                   json={"clinician_id": dr, "role": "primary"}).status_code == 201
    secret = f"Disclosed a {random_id('secret')} today."
    note = {"kind": "progress", "session_kind": "individual", "appointment_id": random_id("appt"),
            "service_date": dt.date.today().isoformat(), "site_id": "north", "client_ids": [client],
            "sections": [{"body": secret}]}
    key = {"Idempotency-Key": random_id("key")}
    first = gw.call("POST", "/api/v1/notes", clinician, json=note, headers=dict(key))
    assert first.status_code == 201
    again = gw.call("POST", "/api/v1/notes", clinician, json=note, headers=dict(key))
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and secret in str(again.json())  # read again, as it is now

    # nothing of the answer is kept: status and id only
    engine = gw.services["gateway"].engine
    assert "body" not in {c["name"] for c in inspect(engine).get_columns("idempotency_keys")}
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT * FROM idempotency_keys")).mappings().all()
    assert secret not in str(kept) and {r["resource_id"] for r in kept} == {first.json()["id"]}

    # the clinician leaves the care team; a retry of the same request is decided again, and refused
    assert gw.call("DELETE", f"/api/v1/clients/{client}/care-team/{dr}", desk).status_code == 200
    refused = gw.call("POST", "/api/v1/notes", clinician, json=note, headers=dict(key))
    assert refused.status_code == 403 and secret not in refused.text

    # and each replay is in the trail as the read it was
    officer = gw.token("compliance_officer", sites=())

    def replays():
        reads = [e for e in gw.call("GET", "/api/v1/audit/entries", officer, params={
            "client_id": client, "actor_id": dr, "action": "read"}).json()["entries"]]
        return reads if {e["outcome"] for e in reads} == {"allowed", "denied"} else None

    reads = wait_until(replays, timeout=20, what="the replays in the trail, allowed and denied")
    assert {e["resource_type"] for e in reads} == {"Note"}


def test_keys_expire(gateway_with):
    gw = gateway_with("records", GATEWAY_IDEMPOTENCY_HOURS=0.0001)  # a third of a second
    desk = gw.token("front_desk")
    key = {"Idempotency-Key": random_id("key")}
    first = gw.call("POST", "/api/v1/clients", desk, json=CLIENT, headers=dict(key)).json()["id"]
    time.sleep(0.5)
    later = gw.call("POST", "/api/v1/clients", desk, json=CLIENT, headers=dict(key))
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers and later.json()["id"] != first
