"""Lists of sites, rooms, availability, leave and the waitlist -- sorted, paged
by key, kept to the caller's sites -- and the changes and removals a clinic
makes to them; waitlist offers that lapse pass on once, with two replicas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from confide_testing import caller, random_id
from nameko.exceptions import RemoteError
from sched_support import next_weekday_at
from sqlalchemy import text


def every(call, query: dict) -> list[dict]:
    """Every page of a list, following next_cursor."""
    items, cursor = [], None
    while True:
        got = call({**query, "cursor": cursor})
        items += got["items"]
        if not (cursor := got["next_cursor"]):
            return items


def refused(call, *args) -> str:
    with pytest.raises(RemoteError) as err:
        call(*args)
    return f"{err.value.exc_type}: {err.value.value}"


def test_sites_are_paged_by_key_and_kept_to_the_callers(network, rpc):
    s = rpc.scheduling
    first = s.list_sites(network.admin, {"limit": 1})
    assert [x["name"] for x in first["items"]] == ["Berlin Mitte"] and first["next_cursor"]
    second = s.list_sites(network.admin, {"limit": 1, "cursor": first["next_cursor"]})
    assert [x["name"] for x in second["items"]] == ["Manhattan"] and second["next_cursor"] is None
    assert [x["id"] for x in s.list_sites(network.admin, {"sort": "-id"})["items"]] == sorted(
        [network.ny, network.berlin], reverse=True)
    # a desk at one site sees that site; an officer every site (here: with a filter)
    one = caller("front_desk", (network.ny,))
    assert [x["id"] for x in s.list_sites(one, {})["items"]] == [network.ny]
    officer = caller("compliance_officer", ())
    assert network.berlin in [x["id"] for x in every(lambda q: s.list_sites(officer, q), {"jurisdiction": "DE-BE"})]
    assert "AccessDenied" in refused(s.list_sites, caller("client", ()), {})
    # a cursor is for its own sort, and cannot be made up
    assert "cursor" in refused(s.list_sites, network.admin, {"sort": "id", "cursor": first["next_cursor"]})
    assert "cursor" in refused(s.list_sites, network.admin, {"cursor": "bm90IGEgY3Vyc29y"})
    assert "limit" in refused(s.list_sites, network.admin, {"limit": 500})


def test_site_settings_change_but_not_the_zone(network, rpc):
    s = rpc.scheduling
    changed = s.update_site(network.admin, network.ny, {"late_cancel_hours": 48, "offer_hours": 4})
    assert (changed["late_cancel_hours"], changed["offer_hours"], changed["time_zone"]) == (
        48, 4, "America/New_York")
    assert "time_zone" in refused(s.update_site, network.admin, network.ny, {"time_zone": "Europe/Paris"})
    assert "changes" in refused(s.update_site, network.admin, network.ny, {})
    assert "AccessDenied" in refused(s.update_site, network.desk, network.ny, {"name": "Mine"})


def test_rooms_change_and_retire_once_nothing_is_booked_in_them(network, rpc):
    s, dr = rpc.scheduling, network.clinician()
    names = [r["name"] for r in s.list_rooms(network.desk, network.ny, {})["items"]]
    assert names == ["Group room", "Room 1", "Room 2"]
    assert "name" in refused(s.update_room, network.admin, network.room, {"name": "Room 2"})
    assert s.update_room(network.admin, network.room, {"name": "Blue room"})["name"] == "Blue room"
    booked = s.book(network.desk, network.appointment(dr, next_weekday_at(10)))
    assert "still to come" in refused(s.retire_room, network.admin, network.room)
    s.cancel(network.desk, booked["id"], {"by": "clinic", "reason": "room works"})
    s.update_room(network.admin, network.room2, {"telehealth_capable": True})
    remote = s.book(network.desk, network.appointment(dr, next_weekday_at(12), room_id=network.room2,
                                                      modality="telehealth", client_jurisdiction="US-NY"))
    assert "telehealth_capable" in refused(s.update_room, network.admin, network.room2, {"telehealth_capable": False})
    s.cancel(network.desk, remote["id"], {"by": "clinic", "reason": "room works"})
    assert s.retire_room(network.admin, network.room)["retired_at"]
    assert "Blue room" not in [r["name"] for r in s.list_rooms(network.desk, network.ny, {})["items"]]
    assert [r["name"] for r in s.list_rooms(network.desk, network.ny, {"retired": True})["items"]] == ["Blue room"]
    assert "room_id" in refused(s.book, network.desk, network.appointment(dr, next_weekday_at(11)))
    assert "AccessDenied" in refused(s.list_rooms, caller("front_desk", (network.berlin,)), network.ny, {})


def test_availability_is_listed_changed_and_removed(network, rpc):
    s, dr = rpc.scheduling, network.clinician(hours=("09:00", "17:00"))
    mine = caller("clinician", (network.ny,), user_id=dr)
    windows = every(lambda q: s.list_availability(mine, q), {"limit": 3})
    assert len(windows) == 7 and {w["clinician_id"] for w in windows} == {dr}
    assert [w["weekday"] for w in windows] == list(range(7))
    monday = windows[0]
    assert "ends" in refused(s.update_availability, network.desk, monday["id"], {"starts": "18:00"})
    changed = s.update_availability(network.desk, monday["id"], {"starts": "12:00"})
    assert (changed["starts"], changed["ends"]) == ("12:00", "17:00")
    s.remove_availability(mine, windows[6]["id"])
    assert len(every(lambda q: s.list_availability(network.desk, q), {"clinician_id": dr})) == 6
    other = caller("clinician", (network.ny,), user_id=random_id("dr"))
    assert "AccessDenied" in refused(s.list_availability, other, {"clinician_id": dr})
    assert "AccessDenied" in refused(s.remove_availability, other, windows[5]["id"])
    assert "NotFound" in refused(s.remove_availability, network.desk, windows[6]["id"])


def test_leave_is_listed_and_removed(network, rpc):
    s, dr = rpc.scheduling, network.clinician()
    starts = datetime.now(UTC) + timedelta(days=20)
    leave = s.add_exception(network.desk, {"clinician_id": dr, "site_id": network.ny, "reason": "conference",
                                           "starts_at": starts.isoformat(),
                                           "ends_at": (starts + timedelta(days=2)).isoformat()})
    listed = s.list_exceptions(network.desk, {"clinician_id": dr})["items"]
    assert [(x["id"], x["reason"]) for x in listed] == [(leave["id"], "conference")]
    s.remove_exception(network.desk, leave["id"])
    assert s.list_exceptions(network.desk, {"clinician_id": dr})["items"] == []


def waitlisted(network, rpc, *clients) -> list[str]:
    return [rpc.scheduling.waitlist_add(network.desk, {"site_id": network.ny, "client_id": c,
                                                       "service_kind": "individual_psychotherapy"})["id"]
            for c in clients]


def test_the_waitlist_is_listed_with_each_read_recorded_and_entries_removed(network, rpc):
    s = rpc.scheduling
    first, second = random_id("client"), random_id("client")
    ids = waitlisted(network, rpc, first, second)
    before = len(network.outbox("scheduling.access"))
    listed = s.list_waitlist(network.desk, {"site_id": network.ny})["items"]
    assert [x["client_id"] for x in listed] == [first, second]
    reads = [m["payload"] for m in network.outbox("scheduling.access")[before:]]
    assert [(r["client_id"], r["action"], r["resource_id"]) for r in reads] == [
        (first, "read", ids[0]), (second, "read", ids[1])]
    # a freed slot goes to the first; taken off the list, their offer passes to the second
    dr = network.clinician()
    a = s.book(network.desk, network.appointment(dr, next_weekday_at(10)))
    s.cancel(network.desk, a["id"], {"by": "client", "reason": "moved"})
    assert s.remove_from_waitlist(network.desk, ids[0], "found another clinic")["status"] == "removed"
    offers = [m["payload"]["client_id"] for m in network.outbox("scheduling.waitlist")]
    assert offers == [first, second]
    assert "reason" in refused(s.remove_from_waitlist, network.desk, ids[1], "")
    assert "entry_id" in refused(s.remove_from_waitlist, network.desk, ids[0], "again")
    assert [x["status"] for x in s.list_waitlist(network.desk, {"status": "removed"})["items"]] == ["removed"]


def test_a_client_who_passed_an_offer_is_not_offered_it_again_and_a_lapsed_offer_cannot_be_taken(
        network, rpc, sched_db):
    s, dr = rpc.scheduling, network.clinician()
    twice, other = random_id("client"), random_id("client")
    first = s.waitlist_add(network.desk, {"site_id": network.ny, "client_id": twice, "clinician_id": dr,
                                          "service_kind": "individual_psychotherapy"})["id"]
    s.waitlist_add(network.desk, {"site_id": network.ny, "client_id": twice,  # with anyone, too
                                  "service_kind": "individual_psychotherapy"})
    waitlisted(network, rpc, other)
    a = s.book(network.desk, network.appointment(dr, next_weekday_at(10)))
    s.cancel(network.desk, a["id"], {"by": "client", "reason": "moved"})
    s.answer_offer(network.desk, first, False)
    assert [m["payload"]["client_id"] for m in network.outbox("scheduling.waitlist")] == [twice, other]
    offered = next(x for x in s.list_waitlist(network.desk, {"status": "offered"})["items"])
    assert set(offered["offer"]) == {"starts_at", "ends_at", "clinician_id", "modality"}  # not who passed it
    with sched_db.begin() as conn:
        conn.execute(text("UPDATE waitlist SET offer_expires_at = now() - interval '1 second' WHERE id = :i"),
                     {"i": offered["id"]})
    assert "lapsed" in refused(s.answer_offer, network.desk, offered["id"], True)


def test_a_lapsed_offer_passes_on_once_with_two_replicas(network, rpc, scheduling, running_service, sched_db):
    s = rpc.scheduling
    first, second = random_id("client"), random_id("client")
    ids = waitlisted(network, rpc, first, second)
    dr = network.clinician()
    a = s.book(network.desk, network.appointment(dr, next_weekday_at(10)))
    s.cancel(network.desk, a["id"], {"by": "client", "reason": "moved"})
    listed = {x["id"]: x for x in s.list_waitlist(network.desk, {})["items"]}
    lapses = datetime.fromisoformat(listed[ids[0]]["offer_expires_at"]) - datetime.now(UTC)
    assert timedelta(hours=23) < lapses <= timedelta(hours=24)  # the site's offer_hours (24 by default)

    def lapse(entry_id):
        with sched_db.begin() as conn:
            conn.execute(text("UPDATE waitlist SET offer_expires_at = now() - interval '1 minute' WHERE id = :i"),
                         {"i": entry_id})

    lapse(ids[0])
    running_service("scheduling", replica_of=scheduling)  # its timer sweeps at once ...
    sweeps = [s.expire_offers.call_async(network.admin) for _ in range(4)]  # ... and both are asked, together
    assert sum(r.result() for r in sweeps) <= 1
    offered = [m["payload"]["client_id"] for m in network.outbox("scheduling.waitlist")]
    assert offered == [first, second]
    status = {x["id"]: x["status"] for x in s.list_waitlist(network.desk, {})["items"]}
    assert status == {ids[0]: "waiting", ids[1]: "offered"}
    # the second lets it lapse too: nobody is left who has not passed it
    lapse(ids[1])
    s.expire_offers(network.admin)
    assert [m["payload"]["client_id"] for m in network.outbox("scheduling.waitlist")] == [first, second]
    assert {x["status"] for x in s.list_waitlist(network.desk, {})["items"]} == {"waiting"}
