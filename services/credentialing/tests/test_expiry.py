"""Expiry notices at 90, 30 and 7 days and `expired` on the day: each exactly
once, however often the check runs and across a restart of the service."""

from collections import Counter
from datetime import date, timedelta

import pytest
from confide_credentialing.domain.expiry import notice_due
from cred_support import OFFICER, clinician, licensed, outbox


@pytest.mark.unit
def test_which_notice_is_due():
    expires = date(2027, 1, 31)
    days = {91: None, 90: "90", 31: "90", 30: "30", 8: "30", 7: "7", 1: "7", 0: "expired", -3: "expired"}
    for left, notice in days.items():
        assert notice_due(expires, expires - timedelta(days=left)) == notice, left


def notices(engine, license_id):
    return Counter((m["type"].rsplit(".", 1)[1], m["payload"].get("days_left")) for m in outbox(engine)
                   if m["payload"].get("license_id") == license_id and m["type"].endswith(("expiring", "expired")))


def test_each_notice_once_across_repeats_and_restarts(rpc_client, cred, cred_db, start_credentialing):
    dr = clinician(cred)
    lic = licensed(cred, dr, expires_in=100)
    expires = date.fromisoformat(lic["expires_on"])
    days = [expires - timedelta(days=d) for d in (100, 90, 89, 30, 30, 7, 6)] + [expires, expires]
    for day in days:
        cred.check_expiries(OFFICER, day.isoformat())
        cred.check_expiries(OFFICER, day.isoformat())  # the timer running twice a day

    start_credentialing()  # a second replica starts (its timer runs at once) ...
    with rpc_client() as rpc:  # ... and is asked again
        for day in days:
            rpc.credentialing.check_expiries(OFFICER, day.isoformat())

    assert notices(cred_db, lic["id"]) == Counter({("expiring", 90): 1, ("expiring", 30): 1, ("expiring", 7): 1,
                                                   ("expired", None): 1})
    assert cred.get_clinician(OFFICER, dr)["licenses"][0]["status"] == "expired"
    answer = cred.may_practice(OFFICER, dr, {"service_kind": "individual_psychotherapy",
                                             "client_jurisdiction": "US-NY", "modality": "telehealth",
                                             "on": expires.isoformat()})
    assert not answer["allowed"] and f"expired on {expires.isoformat()}" in answer["reasons"][0]


def test_a_renewal_starts_a_fresh_series(cred, cred_db):
    dr = clinician(cred)
    lic = licensed(cred, dr, expires_in=20)
    cred.check_expiries(OFFICER, date.today().isoformat())
    renewed = cred.renew_license(OFFICER, lic["id"], {"expires_on": (date.today() + timedelta(days=25)).isoformat(),
                                                      "verification": {"source": "board", "result": "verified"}})
    cred.check_expiries(OFFICER, date.today().isoformat())
    assert notices(cred_db, lic["id"]) == Counter({("expiring", 20): 1, ("expiring", 25): 1})
    assert renewed["status"] == "active"


def test_expiring_lists_what_lapses_soon(cred):
    dr = clinician(cred)
    soon = licensed(cred, dr, expires_in=10)
    licensed(cred, dr, "lmft", expires_in=300)
    listed = [row for row in cred.expiring(OFFICER, 30) if row["clinician_id"] == dr]
    assert [(r["id"], r["days_left"]) for r in listed] == [(soon["id"], 10)]
