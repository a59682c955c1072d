"""Booking: PostgreSQL refuses double booking, even under 50 concurrent
attempts; conflicts name what collides; licensure decides from the projection."""

import time
from datetime import timedelta

import eventlet
import pytest
import sqlalchemy.exc
from confide_events import registry
from confide_messaging import UnitOfWork
from confide_scheduling.store import lock_parties, party_key
from confide_testing import caller, random_id, wait_for_handled
from confide_testing.plugin import stop_gracefully
from nameko.exceptions import RemoteError
from psycopg.types.range import Range
from sched_support import CRED, Network, next_weekday_at
from sqlalchemy import text
from sqlalchemy.orm import Session


def refused(call, *args) -> RemoteError:
    with pytest.raises(RemoteError) as failure:
        call(*args)
    return failure.value


def test_fifty_concurrent_attempts_one_booking(network, rpc):
    dr = network.clinician()
    at = next_weekday_at(10)
    calls = [rpc.scheduling.book.call_async(network.desk, network.appointment(
        dr, at, modality="telehealth", room_id=None, client_jurisdiction="US-NY")) for _ in range(50)]
    won, lost = [], []
    for call in calls:
        try:
            won.append(call.result())
        except RemoteError as exc:
            lost.append(exc)
    assert len(won) == 1 and len(lost) == 49
    assert {e.exc_type for e in lost} == {"BookingConflict"}
    assert all("clinician_id:" in str(e) and dr in str(e) for e in lost)
    with network.engine.connect() as conn:
        booked = conn.execute(text("SELECT count(*) FROM appointments WHERE clinician_id = :dr"), {"dr": dr})
        assert booked.scalar() == 1


def test_fifty_at_once_for_one_room_all_but_one_told_the_time_is_taken(running_service, rpc_client, caplog):
    """In person each attempt claims the clinician's time and the room's, and with
    as many workers as callers (as ``make bench NAME=scheduling`` runs it) all fifty
    claim at once: two claims checked at once each waited on the other's row,
    PostgreSQL failed one as a deadlock, and an attempt failed three times over
    was answered 503, "the database out of reach" (8 of 49 in one run), where the
    front desk should hear that the time is taken. Claims on one party now queue:
    PostgreSQL, asked once the service's sessions have ended, counts no deadlock.
    And a refusal is the one line the service logs for it: the parties' rows were
    written with executemany, which psycopg runs as a pipeline, and each refused
    booking also left "error ignored terminating <psycopg.Pipeline [INERROR]>"."""
    service = running_service("scheduling", max_workers=50)
    with rpc_client() as rpc:
        network = Network(rpc, service.engine)
        dr, at = network.clinician(), next_weekday_at(10)
        calls = [rpc.scheduling.book.call_async(network.desk, network.appointment(dr, at)) for _ in range(50)]
        outcomes = []
        for call in calls:
            try:
                outcomes.append(call.result()["status"])
            except RemoteError as exc:
                outcomes.append(exc.exc_type)
    assert sorted(set(outcomes)) == ["BookingConflict", "booked"] and outcomes.count("booked") == 1, \
        {kind: outcomes.count(kind) for kind in set(outcomes)}
    assert not [r.getMessage() for r in caplog.records if "Pipeline" in r.getMessage()]
    stop_gracefully(service.container)  # its sessions end, and each reports its statistics as it does
    assert deadlocks_counted(service.engine) == 0


def deadlocks_counted(engine) -> int:
    """PostgreSQL's count of deadlocks in ``engine``'s database once the service's sessions have ended."""
    with engine.connect() as conn:
        others = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND usename <> current_user")
        deadline = time.monotonic() + 10
        while conn.execute(others).scalar():
            assert time.monotonic() < deadline, "the service's sessions did not end"
            conn.rollback()
            eventlet.sleep(0.05)
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        return conn.execute(text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")).scalar()


def test_bookings_that_deadlock_end_in_a_conflict_not_a_server_error(network, rpc):
    """An exclusion constraint checks a row after inserting it, so two bookings
    claiming the same times at once can each wait on the other's row, and
    PostgreSQL fails one of them. Made to happen: another transaction holds the
    room; the booking claims the clinician, then waits for the room; the other
    then claims the clinician. The booking waited first, so it is the one failed:
    it must try again and be told what it collides with."""
    template = rpc.scheduling.book(network.desk, network.appointment(network.clinician(), next_weekday_at(8)))["id"]
    dr, at = network.clinician(), next_weekday_at(15)
    during = Range(at, at + timedelta(minutes=50))
    claim = text("INSERT INTO appointment_parties (appointment_id, party_kind, party_id, during) "
                 "VALUES (:id, :kind, :party, :during)")
    with network.engine.connect() as other:
        held = other.execute(text(
            "INSERT INTO appointments SELECT (jsonb_populate_record(NULL::appointments, "
            "to_jsonb(a) || jsonb_build_object('id', gen_random_uuid()))).* FROM appointments a WHERE id = :t "
            "RETURNING id"), {"t": template}).scalar_one()
        other.execute(claim, {"id": held, "kind": "room", "party": str(network.room), "during": during})
        booking = rpc.scheduling.book.call_async(network.desk, network.appointment(dr, at))
        eventlet.sleep(0.5)  # the booking has claimed the clinician's time and waits for the room's
        # now each waits on the other
        other.execute(claim, {"id": held, "kind": "clinician", "party": dr, "during": during})
        other.commit()
    error = refused(booking.result)
    assert error.exc_type == "BookingConflict" and "clinician_id:" in str(error) and dr in str(error)


def test_a_booking_into_the_time_a_reschedule_frees_does_not_deadlock_it(network, rpc):
    """A reschedule frees its old times, then claims the new ones. Had it taken
    the claim locks only as it claimed, a booking into the old time could hold
    the clinician's lock and wait on the row the reschedule had just freed,
    while the reschedule waited for that lock: PostgreSQL failed the reschedule
    as a deadlock, answered 503. Made to happen: another transaction holds the
    clinician's claim lock, as a booking does; the reschedule is asked; the
    other then claims the old time. The reschedule takes its locks before it
    touches a row, so it waits; the other is told the time is still held; the
    reschedule goes through."""
    dr, at, later = network.clinician(), next_weekday_at(10), next_weekday_at(14)
    mine = rpc.scheduling.book(network.desk, network.appointment(dr, at))
    with network.engine.connect() as other:
        lock_parties(other, [("clinician", dr)])  # as a booking holds it
        moving = rpc.scheduling.reschedule.call_async(network.desk, mine["id"], {"starts_at": later.isoformat()})
        eventlet.sleep(0.5)  # the reschedule waits for the clinician's lock
        with pytest.raises(sqlalchemy.exc.IntegrityError, match="no_overlap"):
            other.execute(text("INSERT INTO appointment_parties (appointment_id, party_kind, party_id, during) "
                               "VALUES (gen_random_uuid(), 'clinician', :dr, :during)"),
                          {"dr": dr, "during": Range(at, at + timedelta(minutes=50))})
        other.rollback()
    assert [moved["id"] for moved in moving.result()["moved"]] == [mine["id"]]


def test_moving_a_series_whose_sessions_differ_takes_every_lock_at_once(network, rpc):
    """One session of a series can be given to a colleague on its own, and
    moving the series on moves it too. Had each session's parties been locked
    as it moved, the colleague's lock was asked for while the first clinician's
    was held, out of the one order, and a booking holding the colleague and
    waiting for the first clinician deadlocked the move into a 503. Made to
    happen as above: another transaction holds the colleague's lock (it sorts
    first), the series is moved on, the other then takes the first clinician's."""
    s, dr, colleague = rpc.scheduling, network.clinician(), network.clinician()
    while party_key("clinician", colleague) > party_key("clinician", dr):
        colleague = network.clinician()
    first = next_weekday_at(9)
    booked = s.book_series(network.desk, {"appointment": network.appointment(dr, first),
                                          "rrule": "FREQ=WEEKLY;COUNT=2"})["appointments"]
    s.reassign(network.desk, booked[1]["id"], {"clinician_id": colleague, "scope": "this"})
    with network.engine.connect() as other:
        lock_parties(other, [("clinician", colleague)])
        moving = rpc.scheduling.reschedule.call_async(network.desk, booked[0]["id"], {
            "starts_at": (first + timedelta(hours=2)).isoformat(), "scope": "following"})
        eventlet.sleep(0.5)  # the move waits for the colleague's lock
        lock_parties(other, [("clinician", dr)])
        other.rollback()
    moved = moving.result()["moved"]
    assert [(a["id"], a["clinician_id"]) for a in moved] == [(booked[0]["id"], dr), (booked[1]["id"], colleague)]


def test_the_database_itself_refuses_an_overlap(network, rpc):
    dr = network.clinician()
    booked = rpc.scheduling.book(network.desk, network.appointment(dr, next_weekday_at(11)))
    with network.engine.connect() as conn, pytest.raises(sqlalchemy.exc.IntegrityError, match="no_overlap"):
        conn.execute(text("INSERT INTO appointment_parties (appointment_id, party_kind, party_id, during) "
                          "VALUES (:id, 'clinician', :dr, :during)"),
                     {"id": booked["id"], "dr": dr + "x", "during": Range(next_weekday_at(8), next_weekday_at(9))})
        conn.execute(text("INSERT INTO appointment_parties (appointment_id, party_kind, party_id, during) "
                          "VALUES (gen_random_uuid(), 'clinician', :dr, :during)"),
                     {"dr": dr, "during": Range(next_weekday_at(11), next_weekday_at(12))})


def test_conflicts_name_what_collides(network, rpc):
    dr, other = network.clinician(), network.clinician()
    client = random_id("client")
    at = next_weekday_at(14)
    rpc.scheduling.book(network.desk, network.appointment(dr, at, clients=[client]))
    error = refused(rpc.scheduling.book, network.desk, network.appointment(other, at, clients=[client],
                                                                           room_id=network.room2))
    assert error.exc_type == "BookingConflict" and "client_ids:" in str(error) and client in str(error)
    error = refused(rpc.scheduling.book, network.desk, network.appointment(other, at))
    assert "room_id:" in str(error) and "already has an appointment from" in str(error)
    # back to back is fine: ranges are half-open
    rpc.scheduling.book(network.desk, network.appointment(dr, next_weekday_at(15), clients=[client]))


def test_licensure_decides(network, rpc):
    dr = network.clinician("lcsw", "US-NY")
    at = next_weekday_at(9)
    error = refused(rpc.scheduling.book, network.desk, network.appointment(
        dr, at, modality="telehealth", room_id=None, client_jurisdiction="US-CA"))
    assert error.exc_type == "NotLicensed" and "licence" in str(error) and "US-CA" in str(error)

    psychologist = network.clinician("psychologist", "US-PA")
    ok = rpc.scheduling.book(network.desk, network.appointment(
        psychologist, at, modality="telehealth", room_id=None, client_jurisdiction="US-NJ"))
    assert ok["status"] == "booked"  # PSYPACT
    error = refused(rpc.scheduling.book, network.desk, network.appointment(psychologist, next_weekday_at(12)))
    assert error.exc_type == "NotLicensed"  # in person in New York: no licence there, NY not in PSYPACT


def test_a_suspension_flags_future_appointments(network, rpc):
    dr = network.clinician(license_type=None)
    lic = network.license(dr, "lcsw", "US-NY")
    first = rpc.scheduling.book(network.desk, network.appointment(dr, next_weekday_at(10)))
    second = rpc.scheduling.book(network.desk, network.appointment(dr, next_weekday_at(10, days_ahead=8)))
    network.license(dr, "lcsw", "US-NY", status="suspended", event="suspended", license_id=lic)
    for appointment in (first, second):
        flagged = rpc.scheduling.get_appointment(network.desk, appointment["id"])
        assert flagged["needs_reassignment"] is True
        assert "is suspended" in flagged["reassignment_reasons"][0]
    published = [m for m in network.outbox("scheduling.appointment.needs") if m["payload"]["clinician_id"] == dr]
    assert {m["payload"]["appointment_id"] for m in published} == {first["id"], second["id"]}
    error = refused(rpc.scheduling.book, network.desk, network.appointment(dr, next_weekday_at(13)))
    assert error.exc_type == "NotLicensed"


def test_an_older_licence_event_does_not_undo_a_newer_one(network, sched_db):
    dr = network.clinician(license_type=None)
    lic = network.license(dr, "lcsw", "US-NY", status="suspended", event="suspended")
    with Session(sched_db) as session, session.begin():  # a "verified" from before, delivered late
        stale = UnitOfWork(session, "credentialing", registry).emit("credentialing.license.verified", {
            "license_id": lic, "clinician_id": dr, "credential_type": "lcsw", "jurisdiction": "US-NY",
            "number": lic, "status": "active", "issued_on": "2020-01-01", "expires_on": "2030-01-01"}, actor=CRED)
        session.execute(text("UPDATE outbox SET message = jsonb_set(message, '{occurred_at}', "
                             "'\"2020-01-01T00:00:00+00:00\"') WHERE id = :id"), {"id": stale.id})
    wait_for_handled(sched_db, "scheduling.on_license", stale.id)
    with sched_db.connect() as conn:
        assert conn.execute(text("SELECT status FROM licenses WHERE id = :id"), {"id": lic}).scalar() == "suspended"


@pytest.mark.parametrize(("change", "field"), [
    ({"client_jurisdiction": "US-XX", "modality": "telehealth", "room_id": None}, "client_jurisdiction"),
    ({"service_kind": "astrology"}, "service_kind"),
    ({"kind": "couple"}, "client_ids"),
    ({"planned_minutes": 0}, "planned_minutes"),
    ({"starts_at": "2027-01-01T10:00:00"}, "starts_at"),
    ({"modality": "in_person", "room_id": None}, "room_id"),
])
def test_bad_bookings_are_refused_by_field(network, rpc, change, field):
    dr = network.clinician()
    error = refused(rpc.scheduling.book, network.desk, {**network.appointment(dr, next_weekday_at(10)), **change})
    assert error.exc_type == "InvalidRequest" and f"{field}:" in str(error)
    with network.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM appointments")).scalar() == 0


def test_room_capacity_and_availability(network, rpc):
    dr = network.clinician(hours=("09:00", "12:00"))
    group = [random_id("client") for _ in range(3)]
    error = refused(rpc.scheduling.book, network.desk, network.appointment(
        dr, next_weekday_at(10), clients=group, kind="group", service_kind="group_psychotherapy"))
    assert "room_id:" in str(error) and "holds 1" in str(error)
    rpc.scheduling.book(network.desk, network.appointment(dr, next_weekday_at(10), clients=group, kind="group",
                                                          service_kind="group_psychotherapy",
                                                          room_id=network.group_room))
    error = refused(rpc.scheduling.book, network.desk, network.appointment(dr, next_weekday_at(16)))
    assert "starts_at:" in str(error) and "outside" in str(error) and "availability" in str(error)


def test_moving_into_a_room_takes_the_room(network, rpc):
    dr, other = network.clinician(), network.clinician()
    at, later = next_weekday_at(10), next_weekday_at(13)
    mine = rpc.scheduling.book(network.desk, network.appointment(dr, at))
    rpc.scheduling.book(network.desk, network.appointment(other, later, room_id=network.room2))
    error = refused(rpc.scheduling.reschedule, network.desk, mine["id"],
                    {"starts_at": later.isoformat(), "room_id": network.room2})
    assert error.exc_type == "BookingConflict" and "room_id:" in str(error)
    moved = rpc.scheduling.reschedule(network.desk, mine["id"], {"starts_at": later.isoformat(),
                                                                 "room_id": network.group_room})["moved"][0]
    assert moved["room_id"] == network.group_room
    # the old room is free again at the old time, the new one is taken at the new time
    rpc.scheduling.book(network.desk, network.appointment(network.clinician(), at))
    error = refused(rpc.scheduling.book, network.desk, network.appointment(network.clinician(), later,
                                                                           room_id=network.group_room))
    assert "room_id:" in str(error)
    telehealth = rpc.scheduling.book(network.desk, network.appointment(
        dr, next_weekday_at(16), modality="telehealth", room_id=None, client_jurisdiction="US-NY"))
    error = refused(rpc.scheduling.reschedule, network.desk, telehealth["id"],
                    {"starts_at": next_weekday_at(17).isoformat(), "room_id": network.room})
    assert "room_id:" in str(error) and "telehealth" in str(error)


def test_leave_and_ids_are_checked(network, rpc):
    dr = network.clinician()
    elsewhere = caller("front_desk", ("elsewhere",))
    error = refused(rpc.scheduling.add_exception, elsewhere, {
        "clinician_id": dr, "site_id": network.ny, "reason": "leave",
        "starts_at": next_weekday_at(9).isoformat(), "ends_at": next_weekday_at(12).isoformat()})
    assert error.exc_type == "AccessDenied"
    error = refused(rpc.scheduling.cancel, network.desk, "not-an-id", {"by": "client", "reason": "x y"})
    assert error.exc_type == "InvalidRequest" and "appointment_id:" in str(error)
