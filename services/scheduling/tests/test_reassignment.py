"""The reassignment queue: sessions a suspension left unlicensed, with the
reasons, and each given to another clinician -- who must be licensed for it."""

from __future__ import annotations

import pytest
from confide_testing import caller
from nameko.exceptions import RemoteError
from sched_support import next_weekday_at


def test_flagged_sessions_are_listed_and_reassigned_to_a_licensed_clinician(network, rpc):
    s = rpc.scheduling
    dr = network.clinician(license_type=None)
    lic = network.license(dr, "lcsw", "US-NY")
    first = s.book(network.desk, network.appointment(dr, next_weekday_at(10)))
    second = s.book(network.desk, network.appointment(dr, next_weekday_at(10, days_ahead=8)))
    network.license(dr, "lcsw", "US-NY", status="suspended", event="suspended", license_id=lic)

    before = len(network.outbox("scheduling.access"))
    queue = s.reassignment_queue(network.desk, {"clinician_id": dr})["items"]
    assert [a["id"] for a in queue] == [first["id"], second["id"]]
    assert "is suspended" in queue[0]["reassignment_reasons"][0]
    reads = [m["payload"] for m in network.outbox("scheduling.access")[before:]]
    assert sorted(r["client_id"] for r in reads) == sorted(first["client_ids"] + second["client_ids"])

    # someone not licensed in New York is refused with the reason; a licensed colleague takes it
    elsewhere = network.clinician("lcsw", "US-NJ")
    with pytest.raises(RemoteError) as refused:
        s.reassign(network.desk, first["id"], {"clinician_id": elsewhere})
    assert refused.value.exc_type == "NotLicensed"
    colleague = network.clinician()
    moved = s.reassign(network.desk, first["id"], {"clinician_id": colleague})["reassigned"]
    assert [(a["clinician_id"], a["needs_reassignment"]) for a in moved] == [(colleague, False)]
    assert [a["id"] for a in s.reassignment_queue(network.desk, {})["items"] if a["clinician_id"] == dr] == [
        second["id"]]
    # the colleague is now taken then: nobody else can be booked with them at that time
    with pytest.raises(RemoteError) as taken:
        s.book(network.desk, network.appointment(colleague, next_weekday_at(10)))
    assert taken.value.exc_type == "BookingConflict"
    # a clinician sees their own queue, and may not reassign to someone else
    mine = caller("clinician", (network.ny,), user_id=dr)
    assert [a["id"] for a in s.reassignment_queue(mine, {})["items"]] == [second["id"]]
    with pytest.raises(RemoteError, match="AccessDenied"):
        s.reassign(mine, second["id"], {"clinician_id": colleague})
    with pytest.raises(RemoteError, match="AccessDenied"):
        s.reassignment_queue(caller("client", ()), {})
    # nor may a clinician take a colleague's session for themself
    with pytest.raises(RemoteError, match="AccessDenied"):
        s.reassign(caller("clinician", (network.ny,), user_id=colleague), second["id"], {"clinician_id": colleague})


def test_a_co_therapist_who_may_no_longer_practise_is_replaced(network, rpc):
    s = rpc.scheduling
    lead, co = network.clinician(), network.clinician(license_type=None)
    lic = network.license(co, "lcsw", "US-NY")
    session = s.book(network.desk, network.appointment(lead, next_weekday_at(9), co_therapist_id=co))
    network.license(co, "lcsw", "US-NY", status="revoked", event="revoked", license_id=lic)
    mine = caller("clinician", (network.ny,), user_id=co)
    assert [a["id"] for a in s.reassignment_queue(mine, {})["items"]] == [session["id"]]
    with pytest.raises(RemoteError) as refused:  # the lead stays; replacing them does not clear the co-therapist
        s.reassign(network.desk, session["id"], {"clinician_id": network.clinician()})
    assert refused.value.exc_type == "NotLicensed" and "co_therapist_id" in str(refused.value)
    stand_in = network.clinician()
    done = s.reassign(network.desk, session["id"], {"clinician_id": stand_in, "replaces": "co_therapist"})
    assert [(a["clinician_id"], a["co_therapist_id"], a["needs_reassignment"]) for a in done["reassigned"]] == [
        (lead, stand_in, False)]
    assert s.reassignment_queue(mine, {})["items"] == []
    with pytest.raises(RemoteError) as taken:  # the stand-in holds the time now
        s.book(network.desk, network.appointment(stand_in, next_weekday_at(9), room_id=network.room2))
    assert taken.value.exc_type == "BookingConflict"
