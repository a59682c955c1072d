"""Series edited "this and following", and slot search across daylight-saving
changes in two time zones."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from confide_testing import random_id
from nameko.exceptions import RemoteError
from sched_support import next_weekday_at

NY = ZoneInfo("America/New_York")


def local(appointment, tz=NY):
    return datetime.fromisoformat(appointment["starts_at"]).astimezone(tz).strftime("%m-%d %H:%M")


def test_this_and_following_changes_exactly_the_right_occurrences(network, rpc):
    s = rpc.scheduling
    dr = network.clinician()
    client = random_id("client")
    # weekly, Mondays 10:00 New York time, across the March 2027 DST change
    first = datetime(2027, 3, 1, 10, 0, tzinfo=NY).astimezone(UTC)
    series = s.book_series(network.desk, {"appointment": network.appointment(dr, first, clients=[client]),
                                          "rrule": "FREQ=WEEKLY;COUNT=6"})
    booked = series["appointments"]
    assert [local(a) for a in booked] == ["03-01 10:00", "03-08 10:00", "03-15 10:00", "03-22 10:00",
                                          "03-29 10:00", "04-05 10:00"]
    other = s.book_series(network.desk, {"appointment": network.appointment(dr, datetime(2027, 3, 1, 19, 0, tzinfo=NY),
                                                                            room_id=network.room2),
                                         "rrule": "FREQ=WEEKLY;COUNT=6"})["appointments"]

    s.cancel(network.desk, booked[3]["id"], {"by": "client", "reason": "travel"})            # 4th cancelled
    s.reschedule(network.desk, booked[4]["id"], {"starts_at": datetime(2027, 3, 30, 9, 0, tzinfo=NY).isoformat()})
    moved = s.reschedule(network.desk, booked[2]["id"], {                                     # 3rd and following
        "starts_at": datetime(2027, 3, 16, 11, 30, tzinfo=NY).isoformat(), "scope": "following"})["moved"]

    assert [local(a) for a in moved] == ["03-16 11:30", "04-06 11:30"]
    after = {a["occurrence"]: a for a in (s.get_appointment(network.desk, b["id"]) for b in booked)}
    assert [(local(after[n]), after[n]["status"]) for n in range(6)] == [
        ("03-01 10:00", "booked"), ("03-08 10:00", "booked"),      # before: untouched
        ("03-16 11:30", "booked"),                                 # the one edited
        ("03-22 10:00", "cancelled"),                              # cancelled stays cancelled
        ("03-30 09:00", "booked"),                                 # moved on its own: kept
        ("04-06 11:30", "booked"),                                 # following: moved, same wall-clock time
    ]
    assert all(local(s.get_appointment(network.desk, o["id"]))[-5:] == "19:00" for o in other)  # other series


def test_a_series_that_collides_is_refused_whole(network, rpc):
    dr = network.clinician()
    start = datetime(2027, 5, 3, 10, 0, tzinfo=NY)
    rpc.scheduling.book(network.desk, network.appointment(dr, datetime(2027, 5, 17, 10, 30, tzinfo=NY),
                                                          room_id=network.room2))
    with pytest.raises(RemoteError) as refused:
        rpc.scheduling.book_series(network.desk, {"appointment": network.appointment(dr, start),
                                                  "rrule": "FREQ=WEEKLY;COUNT=4"})
    assert refused.value.exc_type == "BookingConflict" and "occurrence 3" in str(refused.value)
    listed = rpc.scheduling.list_appointments(network.desk, {"clinician_id": dr, "starts_from": start.isoformat(),
                                                             "starts_before": "2027-06-30T00:00:00+00:00"})
    assert len(listed) == 1
    with pytest.raises(RemoteError) as bad:
        rpc.scheduling.book_series(network.desk, {"appointment": network.appointment(dr, start),
                                                  "rrule": "FREQ=WEEKLY"})
    assert "rrule:" in str(bad.value) and "COUNT or UNTIL" in str(bad.value)


@pytest.mark.parametrize(("site", "tz", "days", "before", "after"), [
    ("ny", "America/New_York", ("2027-03-12", "2027-03-15"), "14:00", "13:00"),    # US: 14 March 2027
    ("berlin", "Europe/Berlin", ("2027-03-26", "2027-03-29"), "08:00", "07:00"),   # EU: 28 March 2027
])
def test_slots_keep_local_time_across_daylight_saving(network, rpc, site, tz, days, before, after):
    site_id = network.ny if site == "ny" else network.berlin
    jurisdiction = "US-NY" if site == "ny" else "DE-BE"
    dr = network.clinician("psychologist", jurisdiction, site=site_id, hours=("09:00", "10:00"))
    slots = rpc.scheduling.find_slots(network.desk, {
        "clinician_id": dr, "site_id": site_id, "service_kind": "individual_psychotherapy", "modality": "telehealth",
        "client_jurisdiction": jurisdiction, "minutes": 60, "from_date": days[0], "to_date": days[1]})
    assert [s["local_start"][11:16] for s in slots] == ["09:00"] * 4
    utc = [datetime.fromisoformat(s["starts_at"]).astimezone(UTC).strftime("%H:%M") for s in slots]
    assert utc == [before, before, after, after]
    assert all(datetime.fromisoformat(s["local_start"]).utcoffset() == datetime.fromisoformat(
        s["starts_at"]).astimezone(ZoneInfo(tz)).utcoffset() for s in slots)


def test_slots_honour_bookings_rooms_leave_and_licensure(network, rpc):
    dr = network.clinician(hours=("09:00", "12:00"))
    day = next_weekday_at(9).astimezone(NY).date()
    query = {"clinician_id": dr, "site_id": network.ny, "service_kind": "individual_psychotherapy",
             "minutes": 60, "step": 60, "from_date": day.isoformat(), "to_date": day.isoformat()}
    starts = lambda: [s["local_start"][11:16] for s in rpc.scheduling.find_slots(network.desk, query)]  # noqa: E731
    assert starts() == ["09:00", "10:00", "11:00"]
    rpc.scheduling.book(network.desk, network.appointment(dr, next_weekday_at(10), room_id=network.room2))
    assert starts() == ["09:00", "11:00"]
    other = network.clinician()  # takes both single rooms at 11:00: no room left for an in-person slot
    rpc.scheduling.book(network.desk, network.appointment(other, next_weekday_at(11)))
    third = network.clinician()
    rpc.scheduling.book(network.desk, network.appointment(third, next_weekday_at(11), room_id=network.room2))
    assert starts() == ["09:00", "11:00"]  # the group room is still free
    rpc.scheduling.book(network.desk, network.appointment(network.clinician(), next_weekday_at(11),
                                                          room_id=network.group_room))
    assert starts() == ["09:00"]
    rpc.scheduling.add_exception(network.desk, {"clinician_id": dr, "site_id": network.ny, "reason": "dentist",
                                                "starts_at": next_weekday_at(9).isoformat(),
                                                "ends_at": next_weekday_at(10).isoformat()})
    assert starts() == []
    assert rpc.scheduling.find_slots(network.desk, {**query, "service_kind": "medication_management"}) == []


def test_a_rule_that_could_never_end_is_refused_at_once(network, rpc):
    """FREQ=MONTHLY on February 31st made dateutil walk to the year 9999 (held on
    a thread, but seconds of a core per request); BYMONTH and BYSETPOS, which can
    ask for a day that never comes, are refused, and every walk stops two years on."""
    dr = network.clinician()
    for rule, says in (("FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=31;COUNT=3", "BYMONTH not supported"),
                       ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=5;COUNT=3", "BYSETPOS not supported"),
                       ("FREQ=MONTHLY;COUNT=30", "within two years")):
        with pytest.raises(RemoteError) as refused:
            rpc.scheduling.book_series(network.desk, {
                "appointment": network.appointment(dr, datetime(2027, 1, 5, 10, 0, tzinfo=NY)), "rrule": rule})
        assert refused.value.exc_type == "InvalidRequest" and "rrule:" in str(refused.value)
        assert says in str(refused.value)


def test_a_list_spans_at_most_a_quarter(network, rpc):
    start = datetime(2027, 1, 1, tzinfo=NY)
    with pytest.raises(RemoteError) as refused:
        rpc.scheduling.list_appointments(network.desk, {"site_id": network.ny, "starts_from": start.isoformat(),
                                                         "starts_before": datetime(2030, 1, 1, tzinfo=NY).isoformat()})
    assert refused.value.exc_type == "InvalidRequest" and "starts_before:" in str(refused.value)
