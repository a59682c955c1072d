"""The day sheet: a site's or clinician's day or week in the site's local time
(across a daylight-saving change), with the clients' names as records announced
them, one access recorded for every client on it; a supervisor sees a
supervisee's day, a clinician nobody else's."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from confide_events import Actor, registry
from confide_messaging import UnitOfWork
from confide_testing import caller, random_id, wait_for_handled
from nameko.exceptions import RemoteError
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

NY = ZoneInfo("America/New_York")
DESK = Actor(id="desk-1", role="front_desk")


def announce(engine, type_: str, payload: dict, handler: str = "scheduling.on_client"):
    """An event as records (or credentialing) would publish it, through the broker."""
    producer = type_.split(".")[0]
    with Session(engine) as session, session.begin():
        emitted = UnitOfWork(session, producer, registry).emit(type_, payload, actor=DESK)
    wait_for_handled(engine, handler, emitted.id)


def client(engine, name: str) -> str:
    cid = random_id("client")
    announce(engine, "records.client.registered", {"client_id": cid, "home_site_id": "x", "minor": False,
                                                   "display_name": name})
    return cid


def reads_since(engine, mark: int) -> list[dict]:
    with engine.connect() as conn:
        return [r["payload"] for r in conn.execute(text(
            "SELECT message FROM outbox WHERE seq > :m AND type = 'scheduling.access.recorded' ORDER BY seq"),
            {"m": mark}).scalars()]


def mark(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT coalesce(max(seq), 0) FROM outbox")).scalar()


def test_a_week_across_the_clock_change_in_local_time_with_names(network, rpc, sched_db):
    s, dr = rpc.scheduling, network.clinician()
    robin, sam = client(sched_db, "Robin Hale"), client(sched_db, "Sam Okafor")
    # 10:00 New York on the Friday before and the Monday after 14 March 2027 (EST -> EDT)
    for day, who in ((12, robin), (15, sam)):
        s.book(network.desk, network.appointment(dr, datetime(2027, 3, day, 10, 0, tzinfo=NY), clients=[who]))
    before = mark(sched_db)
    sheet = s.day_sheet(network.desk, {"site_id": network.ny, "date": "2027-03-12", "days": 7})
    rows = [(a["date"], a["starts"], a["utc_offset"], [c["name"] for c in a["clients"]], a["room"], a["status"])
            for a in sheet["appointments"]]
    assert rows == [("2027-03-12", "10:00", "-0500", ["Robin Hale"], "Room 1", "booked"),
                    ("2027-03-15", "10:00", "-0400", ["Sam Okafor"], "Room 1", "booked")]
    reads = reads_since(sched_db, before)
    assert sorted(r["client_id"] for r in reads) == sorted([robin, sam])
    assert {r["resource_id"] for r in reads} == {f"day-sheet {network.ny} 2027-03-12"}
    one_day = s.day_sheet(network.desk, {"site_id": network.ny, "date": "2027-03-15"})
    assert [a["clients"][0]["id"] for a in one_day["appointments"]] == [sam]


def test_a_renamed_client_shows_the_new_name(network, rpc, sched_db):
    dr, cid = network.clinician(), client(sched_db, "Jo March")
    rpc.scheduling.book(network.desk, network.appointment(dr, datetime(2027, 4, 6, 9, 0, tzinfo=NY), clients=[cid]))
    announce(sched_db, "records.client.renamed", {"client_id": cid, "display_name": "Jo Bhaer"})
    sheet = rpc.scheduling.day_sheet(network.desk, {"clinician_id": dr, "date": "2027-04-06"})
    assert [c["name"] for a in sheet["appointments"] for c in a["clients"]] == ["Jo Bhaer"]


def test_an_older_event_never_overwrites_a_newer_name(network, rpc, sched_db):
    """Registered, then renamed -- but the registration delivered last (a redelivery): the new name stays."""
    from confide_messaging.uow import write_to_outbox

    dr, cid = network.clinician(), random_id("client")
    older = registry.build("records.client.registered", {"client_id": cid, "home_site_id": "x", "minor": False,
                                                         "display_name": "Jo March"}, producer="records", actor=DESK)
    announce(sched_db, "records.client.renamed", {"client_id": cid, "display_name": "Jo Bhaer"})
    with Session(sched_db) as session, session.begin():
        write_to_outbox(session, [older])
    wait_for_handled(sched_db, "scheduling.on_client", older.id)
    rpc.scheduling.book(network.desk, network.appointment(dr, datetime(2027, 4, 8, 9, 0, tzinfo=NY), clients=[cid]))
    sheet = rpc.scheduling.day_sheet(network.desk, {"clinician_id": dr, "date": "2027-04-08"})
    assert [c["name"] for a in sheet["appointments"] for c in a["clients"]] == ["Jo Bhaer"]


def test_clinicians_see_their_own_day_and_supervisors_their_supervisees(network, rpc, sched_db):
    s = rpc.scheduling
    dr, other = network.clinician(), network.clinician()
    s.book(network.desk, network.appointment(dr, datetime(2027, 4, 7, 9, 0, tzinfo=NY)))
    s.book(network.desk, network.appointment(other, datetime(2027, 4, 7, 11, 0, tzinfo=NY)))
    me = caller("clinician", (network.ny,), user_id=dr)
    mine = s.day_sheet(me, {"site_id": network.ny, "date": "2027-04-07"})["appointments"]
    assert [a["clinician_id"] for a in mine] == [dr]                     # the site's day: their own sessions only
    with pytest.raises(RemoteError) as refused:
        s.day_sheet(me, {"clinician_id": other, "date": "2027-04-07"})
    assert refused.value.exc_type == "AccessDenied"
    boss = caller("supervisor", (network.ny,), user_id=random_id("sup"))
    with pytest.raises(RemoteError):
        s.day_sheet(boss, {"clinician_id": dr, "date": "2027-04-07"})
    announce(sched_db, "credentialing.supervision.started", {
        "supervision_id": random_id("sup"), "supervisor_id": boss["user_id"], "supervisee_id": dr,
        "jurisdiction": "US-NY", "starts_on": "2026-01-01", "ends_on": None}, handler="scheduling.on_supervision")
    theirs = s.day_sheet(boss, {"clinician_id": dr, "date": "2027-04-07"})["appointments"]
    assert [a["clinician_id"] for a in theirs] == [dr]
    with pytest.raises(RemoteError) as refused:
        s.day_sheet(network.desk, {"site_id": random_id("elsewhere"), "date": "2027-04-07"})
    assert refused.value.exc_type == "AccessDenied"
    for role in ("client", "credentialing_officer", "compliance_officer"):
        with pytest.raises(RemoteError):
            s.day_sheet(caller(role, (network.ny,)), {"site_id": network.ny})


def test_a_clinicians_own_sheet_is_today_where_they_work(network, rpc):
    """Without a date, today in the zone of the clinician's site, not UTC's: with a site at UTC+14 and one at
    UTC-11, one of them is on another date than UTC's at any moment."""
    s = rpc.scheduling
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        site = random_id("island")
        s.create_site(caller("admin", (site,), purpose="operations"),
                      {"id": site, "name": zone, "jurisdiction": "US-NY", "time_zone": zone})
        dr = random_id("dr")
        days = {datetime.now(ZoneInfo(zone)).date().isoformat()}
        sheet = s.day_sheet(caller("clinician", (site,), user_id=dr), {})
        days.add(datetime.now(ZoneInfo(zone)).date().isoformat())  # (midnight may fall between)
        assert sheet["from"] in days, (zone, sheet["from"], days)


def test_a_sheet_asks_for_a_day_to_a_week(network, rpc):
    for query, field in (({"days": 8}, "days"), ({"date": "March"}, "date")):
        with pytest.raises(RemoteError) as refused:
            rpc.scheduling.day_sheet(network.desk, {"site_id": network.ny, **query})
        assert refused.value.exc_type == "InvalidRequest" and f"{field}:" in str(refused.value)


def test_a_sheet_takes_as_many_statements_for_six_sessions_as_for_one(network, rpc, sched_db):
    """Its appointments with their clients in one query, its accesses in one insert: a full day is not
    two reads and an insert per session (a sheet of 300 took ~480 ms so, ~130 ms now)."""
    dr = network.clinician()
    rpc.scheduling.book(network.desk, network.appointment(dr, datetime(2027, 5, 3, 9, 0, tzinfo=NY)))
    for hour in range(9, 15):
        rpc.scheduling.book(network.desk, network.appointment(dr, datetime(2027, 5, 4, hour, 0, tzinfo=NY)))
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "appointment" in statement or statement.lstrip().startswith("INSERT INTO outbox"):
            seen.append(statement)  # (the relay's reads and updates of the outbox are not the sheet's)

    statements = {}
    event.listen(Engine, "before_cursor_execute", count)
    try:
        for day, sessions in (("2027-05-03", 1), ("2027-05-04", 6)):
            seen.clear()
            before = mark(sched_db)
            sheet = rpc.scheduling.day_sheet(network.desk, {"clinician_id": dr, "date": day})
            assert len(sheet["appointments"]) == len(reads_since(sched_db, before)) == sessions
            statements[sessions] = len(seen)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert statements[6] == statements[1], statements
