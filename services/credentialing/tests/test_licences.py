"""Licences: pending until verified (the database holds that rule too), status
changes published through the outbox, every change access-recorded."""

from datetime import date, timedelta

import pytest
import sqlalchemy.exc
from confide_testing import caller
from cred_support import OFFICER, VERIFIED, clinician, licensed, outbox
from nameko.exceptions import RemoteError
from sqlalchemy import text

ASK = {"service_kind": "individual_psychotherapy", "client_jurisdiction": "US-NY", "modality": "telehealth"}


def test_a_licence_is_active_only_once_verified(cred, cred_db):
    dr = clinician(cred)
    lic = licensed(cred, dr, verify=False)
    assert lic["status"] == "pending"
    answer = cred.may_practice(OFFICER, dr, ASK)
    assert not answer["allowed"] and "pending primary-source verification" in answer["reasons"][0]

    discrepancy = cred.verify_license(OFFICER, lic["id"], {**VERIFIED, "result": "discrepancy", "note": "name"})
    assert discrepancy["status"] == "pending"
    active = cred.verify_license(OFFICER, lic["id"], VERIFIED)
    assert active["status"] == "active" and active["verification_source"] == VERIFIED["source"]
    assert cred.may_practice(OFFICER, dr, ASK)["allowed"]

    with cred_db.connect() as conn, pytest.raises(sqlalchemy.exc.IntegrityError, match="active_needs_verification"):
        conn.execute(text("UPDATE licenses SET status = 'active', verified_at = NULL WHERE id = :id"),
                     {"id": lic["id"]})


def test_status_changes_are_published_and_access_recorded(cred, cred_db):
    dr = clinician(cred)
    lic = licensed(cred, dr)
    cred.suspend_license(OFFICER, lic["id"], "board order 2026-114")
    answer = cred.may_practice(OFFICER, dr, ASK)
    assert not answer["allowed"] and "is suspended" in answer["reasons"][0]
    cred.reinstate_license(OFFICER, lic["id"], "board order lifted")
    cred.renew_license(OFFICER, lic["id"], {"expires_on": (date.today() + timedelta(days=800)).isoformat(),
                                            "verification": VERIFIED})
    cred.revoke_license(OFFICER, lic["id"], "surrendered")
    with pytest.raises(RemoteError) as again:
        cred.revoke_license(OFFICER, lic["id"], "twice")
    assert again.value.exc_type == "Conflict"  # the licence's state refuses it

    messages = [m for m in outbox(cred_db) if m["payload"].get("license_id") == lic["id"]]
    assert [m["type"] for m in messages] == [
        "credentialing.license.recorded", "credentialing.license.verified", "credentialing.license.suspended",
        "credentialing.license.reinstated", "credentialing.license.renewed", "credentialing.license.revoked"]
    assert messages[2]["payload"]["reason"] == "board order 2026-114"
    changes = [m for m in outbox(cred_db, "credentialing.access") if m["payload"]["resource_id"] == lic["id"]]
    assert len(changes) == 6 and {c["actor"]["id"] for c in changes} == {OFFICER["user_id"]}


def test_only_officers_change_credentials_and_the_refusal_is_recorded(cred, cred_db):
    dr = clinician(cred)
    lic = licensed(cred, dr)
    nosy = caller("clinician", ("site-a",))
    with pytest.raises(RemoteError) as refused:
        cred.suspend_license(nosy, lic["id"], "I do not like them")
    assert refused.value.exc_type == "AccessDenied"
    [denial] = [m for m in outbox(cred_db, "credentialing.access") if m["actor"]["id"] == nosy["user_id"]]
    assert denial["payload"]["outcome"] == "denied" and denial["payload"]["resource_id"] == lic["id"]
    with pytest.raises(RemoteError):
        cred.may_practice(caller("client", ()), dr, ASK)
    assert cred.may_practice(nosy, dr, ASK)["allowed"]  # staff may ask


def count(engine, table):
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()


@pytest.mark.parametrize(("change", "field", "says"), [
    ({"jurisdiction": "US-XX"}, "jurisdiction", "not an ISO 3166-2 subdivision"),
    ({"jurisdiction": "New York"}, "jurisdiction", "ISO 3166-2 code"),
    ({"expires_on": "2019-01-01"}, "expires_on", "after issued_on"),
    ({"type": "shaman"}, "type", "unknown credential type 'shaman'"),
    ({"issued_on": "2099-01-01", "expires_on": "2100-01-01"}, "issued_on", "future"),
    ({"number": ""}, "number", "Length must be between 1 and 64"),
])
def test_bad_licence_input_is_refused_and_nothing_stored(cred, cred_db, change, field, says):
    dr = clinician(cred)
    before = (count(cred_db, "licenses"), count(cred_db, "outbox"))
    good = {"type": "lcsw", "jurisdiction": "US-NY", "number": "R-1", "issued_on": "2020-01-01",
            "expires_on": "2030-01-01"}
    with pytest.raises(RemoteError) as refused:
        cred.record_license(OFFICER, dr, {**good, **change})
    assert refused.value.exc_type == "InvalidRequest"
    assert f"{field}:" in str(refused.value) and says in str(refused.value)
    assert (count(cred_db, "licenses"), count(cred_db, "outbox")) == before


def test_clinician_input(cred):
    with pytest.raises(RemoteError) as refused:
        clinician(cred, national_id="1234567890")
    assert "national_id:" in str(refused.value) and "NPI" in str(refused.value)
    first = clinician(cred, national_id="1234567893")
    with pytest.raises(RemoteError) as twice:
        clinician(cred, national_id="1234567893")
    assert "national_id:" in str(twice.value) and "already registered" in str(twice.value)
    assert cred.get_clinician(OFFICER, first)["national_id"] == "1234567893"
    with pytest.raises(RemoteError) as unknown:
        cred.record_license(OFFICER, "nobody", {"type": "lcsw", "jurisdiction": "US-NY", "number": "1",
                                                "issued_on": "2020-01-01", "expires_on": "2030-01-01"})
    assert "clinician_id:" in str(unknown.value)


def test_a_refusal_naming_a_made_up_id_is_recorded_cut_to_what_the_trail_keeps(cred, cred_db):
    """An id longer than the trail's column, in a refused call: the denial is
    recorded (its id cut, with its length), not lost to a 500 or stalling ingest."""
    nosy = caller("clinician", ("north",))
    with pytest.raises(RemoteError) as refused:
        cred.suspend_license(nosy, "x" * 5000, "curious")
    assert refused.value.exc_type == "AccessDenied"
    [denial] = [m for m in outbox(cred_db, "credentialing.access") if m["actor"]["id"] == nosy["user_id"]]
    assert len(denial["payload"]["resource_id"]) == 200 and denial["payload"]["resource_id"].endswith(
        "(5000 characters)")
