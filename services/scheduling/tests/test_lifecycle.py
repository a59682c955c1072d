"""Lifecycle events (billing depends on completed, no_show and late cancelled),
the waitlist, and reads of appointments recorded per client."""

import pytest
from confide_testing import caller, random_id
from nameko.exceptions import RemoteError
from sched_support import next_weekday_at


def events_of(network, appointment_id):
    return [(m["type"].rsplit(".", 1)[1], m["payload"]) for m in network.outbox("scheduling.appointment")
            if m["payload"].get("appointment_id") == appointment_id]


def test_booked_checked_in_completed(network, rpc):
    dr = network.clinician()
    a = rpc.scheduling.book(network.desk, network.appointment(dr, next_weekday_at(10)))
    rpc.scheduling.check_in(network.desk, a["id"])
    rpc.scheduling.complete(network.desk, a["id"], {"minutes": 53, "interactive_complexity": True})
    with pytest.raises(RemoteError) as again:
        rpc.scheduling.no_show(network.desk, a["id"])
    assert "appointment_id:" in str(again.value) and "completed" in str(again.value)
    seen = events_of(network, a["id"])
    assert [t for t, _ in seen] == ["booked", "checked_in", "completed"]
    assert seen[-1][1]["minutes"] == 53 and seen[-1][1]["client_ids"] == a["client_ids"]
    assert seen[-1][1]["interactive_complexity"] is True and seen[-1][1]["patient_present"] is True


def test_late_and_timely_cancellations_and_no_shows(network, rpc):
    strict = random_id("strict")  # a site that wants a week's notice
    admin = caller("admin", (strict,), purpose="operations")
    desk = caller("front_desk", (strict,), purpose="operations")
    rpc.scheduling.create_site(admin, {"id": strict, "name": "Strict", "jurisdiction": "US-NY",
                                       "time_zone": "America/New_York", "late_cancel_hours": 168})
    room = rpc.scheduling.add_room(admin, strict, {"name": "A", "capacity": 1})["id"]
    dr = network.clinician(site=strict, desk=desk)
    book = lambda days, hour: rpc.scheduling.book(desk, network.appointment(  # noqa: E731
        dr, next_weekday_at(hour, days_ahead=days), site_id=strict, room_id=room))
    soon, later, gone = book(5, 10), book(9, 10), book(9, 12)
    rpc.scheduling.cancel(desk, soon["id"], {"by": "client", "reason": "sick"})
    rpc.scheduling.cancel(desk, later["id"], {"by": "clinic", "reason": "clinician ill"})
    rpc.scheduling.no_show(desk, gone["id"])
    assert events_of(network, soon["id"])[-1][1]["late"] is True
    assert events_of(network, later["id"])[-1][1]["late"] is False
    assert events_of(network, later["id"])[-1][1]["cancelled_by"] == "clinic"
    assert events_of(network, gone["id"])[-1][0] == "no_show"
    book(9, 10)  # a cancelled slot is free again


def test_a_cancellation_is_offered_to_the_waitlist_in_order(network, rpc):
    dr = network.clinician()
    first, second = random_id("client"), random_id("client")
    for client in (first, second):
        rpc.scheduling.waitlist_add(network.desk, {"site_id": network.ny, "service_kind": "individual_psychotherapy",
                                                   "client_id": client})
    a = rpc.scheduling.book(network.desk, network.appointment(dr, next_weekday_at(10)))
    rpc.scheduling.cancel(network.desk, a["id"], {"by": "client", "reason": "moved away"})
    offers = [m["payload"] for m in network.outbox("scheduling.waitlist")]
    assert [o["client_id"] for o in offers] == [first]
    rpc.scheduling.answer_offer(network.desk, offers[0]["entry_id"], False)
    offers = [m["payload"] for m in network.outbox("scheduling.waitlist")]
    assert [o["client_id"] for o in offers] == [first, second]
    taken = rpc.scheduling.answer_offer(network.desk, offers[1]["entry_id"], True)
    assert taken["status"] == "booked" and taken["appointment"]["client_ids"] == [second]
    assert taken["appointment"]["starts_at"] == a["starts_at"]


def test_reads_are_recorded_per_client_and_refused_to_strangers(network, rpc):
    dr = network.clinician()
    clients = [random_id("client"), random_id("client")]
    a = rpc.scheduling.book(network.desk, network.appointment(dr, next_weekday_at(10), clients=clients,
                                                              kind="couple", service_kind="family_psychotherapy",
                                                              room_id=network.room2))
    mark = len(network.outbox("scheduling.access"))
    me = caller("clinician", (network.ny,), user_id=dr)
    rpc.scheduling.get_appointment(me, a["id"])
    reads = [m["payload"] for m in network.outbox("scheduling.access")[mark:]]
    assert sorted(r["client_id"] for r in reads) == sorted(clients)
    assert {(r["action"], r["outcome"]) for r in reads} == {("read", "allowed")}

    stranger = caller("clinician", (network.ny,))
    with pytest.raises(RemoteError) as refused:
        rpc.scheduling.get_appointment(stranger, a["id"])
    assert refused.value.exc_type == "AccessDenied"
    denial = network.outbox("scheduling.access")[-1]
    assert denial["payload"]["outcome"] == "denied" and denial["actor"]["id"] == stranger["user_id"]
    with pytest.raises(RemoteError):
        rpc.scheduling.book(stranger, network.appointment(dr, next_weekday_at(12)))
