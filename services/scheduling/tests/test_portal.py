"""The client portal: a client's own appointments (theirs alone), cancelling
within the site's policy, asking for a free time, answering a waitlist offer."""

from __future__ import annotations

import eventlet
import pytest
from confide_scheduling.store import lock_parties, party_key
from confide_testing import caller, random_id
from nameko.exceptions import RemoteError
from sched_support import next_weekday_at
from sqlalchemy import text
from test_day_sheet import announce


def linked(engine, record: str) -> dict:
    """A client's login, linked to their record as records announces it."""
    login = random_id("login")
    announce(engine, "records.login.linked", {"client_id": record, "user_id": login, "linked_as": "client"},
             handler="scheduling.on_login_linked")
    return caller("client", (), user_id=login, purpose="client_request")


def refused(call, *args) -> RemoteError:
    with pytest.raises(RemoteError) as err:
        call(*args)
    return err.value


def test_a_client_books_sees_and_cancels_their_own_sessions(network, rpc, sched_db):
    s, dr = rpc.scheduling, network.clinician()
    robin = random_id("client")
    me = linked(sched_db, robin)
    asked = s.request_appointment(me, {"site_id": network.ny, "clinician_id": dr, "starts_at": next_weekday_at(
        10, days_ahead=2).isoformat(), "service_kind": "individual_psychotherapy"})
    assert asked["client_ids"] == [robin] and asked["room_id"] == network.room  # the smallest room free
    assert refused(s.request_appointment, me, {"site_id": network.ny, "clinician_id": dr, "starts_at": next_weekday_at(
        10, days_ahead=2).isoformat(), "service_kind": "individual_psychotherapy"}).exc_type == "BookingConflict"
    assert refused(s.request_appointment, me, {"site_id": network.ny, "clinician_id": dr, "starts_at": next_weekday_at(
        10, days_ahead=3).isoformat(), "service_kind": "individual_psychotherapy", "modality": "telehealth",
        "client_jurisdiction": "US-CA"}).exc_type == "NotLicensed"
    later = s.book(network.desk, network.appointment(dr, next_weekday_at(10, days_ahead=9), clients=[robin]))
    someone = s.book(network.desk, network.appointment(dr, next_weekday_at(12, days_ahead=9)))

    before = len(network.outbox("scheduling.access"))
    mine = s.my_appointments(me, {})["items"]
    assert [a["id"] for a in mine] == [asked["id"], later["id"]]
    assert mine[0]["starts"] == "10:00" and mine[0]["time_zone"] == "America/New_York" and "client_ids" not in mine[0]
    reads = [m["payload"] for m in network.outbox("scheduling.access")[before:]]
    assert {r["client_id"] for r in reads} == {robin}

    # within a week's notice (the site's policy here) a cancellation is late; the rest is not
    s.update_site(network.admin, network.ny, {"late_cancel_hours": 168})
    assert s.cancel_my_appointment(me, asked["id"], "feeling better")["late"] is True
    assert s.cancel_my_appointment(me, later["id"], "moving")["late"] is False
    assert "of yours" in str(refused(s.cancel_my_appointment, me, someone["id"], "not mine"))
    cancelled = [m["payload"] for m in network.outbox("scheduling.appointment.cancelled")]
    assert {(c["appointment_id"], c["cancelled_by"], c["late"]) for c in cancelled} == {
        (asked["id"], "client", True), (later["id"], "client", False)}
    assert [a["status"] for a in s.my_appointments(me, {})["items"]] == ["cancelled", "cancelled"]
    # a time gone by is neither asked for nor cancelled by the client
    assert "starts_at" in str(refused(s.request_appointment, me, {
        "site_id": network.ny, "clinician_id": dr, "service_kind": "individual_psychotherapy",
        "starts_at": next_weekday_at(10, days_ahead=-3).isoformat()}))
    held = s.book(network.desk, network.appointment(dr, next_weekday_at(10, days_ahead=10), clients=[robin]))
    with sched_db.begin() as conn:  # (as if it had started: bookings in the past are the desk's to make)
        conn.execute(text("UPDATE appointments SET starts_at = now() - interval '10 minutes' WHERE id = :i"),
                     {"i": held["id"]})
    assert "started" in str(refused(s.cancel_my_appointment, me, held["id"], "too late"))


def test_asking_for_a_time_locks_every_room_it_may_try_at_once(network, rpc, sched_db):
    """Asking for a time tries the site's rooms, smallest first, in one
    transaction. Had it locked each room's claim as it tried it, it held the
    clinician's lock while asking for the next room's, out of the one order:
    a booking that held that room and, in the order, waited for the clinician
    deadlocked it into a 503. Made to happen: another transaction holds the
    second room's lock, the time is asked for, the other then takes the
    clinician's (the room's key sorts first). The request locks every room with
    the rest before it tries one, so it waits for the room without holding the
    clinician, and once the other is done it is booked into that room."""
    s, at = rpc.scheduling, next_weekday_at(10, days_ahead=2)
    s.book(network.desk, network.appointment(network.clinician(), at))  # the smallest room is taken then
    dr = network.clinician()
    while party_key("clinician", dr) < party_key("room", network.room2):
        dr = network.clinician()
    me = linked(sched_db, random_id("client"))
    with sched_db.connect() as other:
        lock_parties(other, [("room", network.room2)])
        asking = s.request_appointment.call_async(me, {"site_id": network.ny, "clinician_id": dr,
                                                       "starts_at": at.isoformat(),
                                                       "service_kind": "individual_psychotherapy"})
        eventlet.sleep(0.5)  # the request waits for the second room's lock
        lock_parties(other, [("clinician", dr)])
        other.rollback()
    assert asking.result()["room_id"] == network.room2


def test_only_a_linked_client_and_only_their_own(network, rpc, sched_db):
    s, dr = rpc.scheduling, network.clinician()
    unlinked = caller("client", (), user_id=random_id("login"), purpose="client_request")
    assert "redeem" in str(refused(s.my_appointments, unlinked, {}))
    assert refused(s.my_appointments, network.desk, {}).exc_type == "AccessDenied"
    pair = [random_id("client"), random_id("client")]
    me = linked(sched_db, pair[0])
    couple = s.book(network.desk, network.appointment(dr, next_weekday_at(11), clients=pair, kind="couple",
                                                      service_kind="family_psychotherapy", room_id=network.room2))
    assert "shared" in str(refused(s.cancel_my_appointment, me, couple["id"], "busy"))


def test_a_client_answers_their_waitlist_offer(network, rpc, sched_db):
    s, dr = rpc.scheduling, network.clinician()
    robin = random_id("client")
    me = linked(sched_db, robin)
    s.waitlist_add(network.desk, {"site_id": network.ny, "service_kind": "individual_psychotherapy",
                                  "client_id": robin})
    freed = s.book(network.desk, network.appointment(dr, next_weekday_at(15)))
    s.cancel(network.desk, freed["id"], {"by": "client", "reason": "moved away"})
    offers = s.my_offers(me)
    assert [o["offer"]["starts_at"] for o in offers] == [freed["starts_at"]] and offers[0]["expires_at"]
    assert set(offers[0]["offer"]) == {"starts_at", "ends_at", "clinician_id", "modality"}  # not whose it was
    other = linked(sched_db, random_id("client"))
    assert "of yours" in str(refused(s.answer_my_offer, other, offers[0]["id"], True))
    taken = s.answer_my_offer(me, offers[0]["id"], True)
    assert taken["status"] == "booked" and taken["appointment"]["client_ids"] == [robin]
    assert s.my_offers(me) == []
