"""A small clinic network for the scheduling tests: sites in two time zones,
rooms, a licensed clinician with open availability (licences arrive as
credentialing events, through the broker)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import confide_contracts  # noqa: F401
from confide_events import Actor, registry
from confide_messaging import UnitOfWork
from confide_testing import caller, random_id, wait_for_handled
from sqlalchemy import text
from sqlalchemy.orm import Session

CRED = Actor(id="cred-officer", role="credentialing_officer")


class Network:
    def __init__(self, rpc, engine) -> None:
        self.rpc, self.engine = rpc, engine
        self.ny, self.berlin = random_id("ny"), random_id("berlin")
        self.admin = caller("admin", (self.ny, self.berlin), purpose="operations")
        self.desk = caller("front_desk", (self.ny, self.berlin), purpose="operations")
        s = rpc.scheduling
        s.create_site(self.admin, {"id": self.ny, "name": "Manhattan", "jurisdiction": "US-NY",
                                   "time_zone": "America/New_York"})
        s.create_site(self.admin, {"id": self.berlin, "name": "Berlin Mitte", "jurisdiction": "DE-BE",
                                   "time_zone": "Europe/Berlin"})
        self.room = s.add_room(self.admin, self.ny, {"name": "Room 1", "capacity": 1})["id"]
        self.room2 = s.add_room(self.admin, self.ny, {"name": "Room 2", "capacity": 2})["id"]
        self.group_room = s.add_room(self.admin, self.ny, {"name": "Group room", "capacity": 8})["id"]

    def clinician(self, license_type="lcsw", jurisdiction="US-NY", site=None, hours=("08:00", "20:00"),
                  desk=None) -> str:
        dr = random_id("dr")
        for weekday in range(7):
            self.rpc.scheduling.add_availability(desk or self.desk, {
                "clinician_id": dr, "site_id": site or self.ny, "weekday": weekday, "starts": hours[0],
                "ends": hours[1], "valid_from": "2026-01-01"})
        if license_type:
            self.license(dr, license_type, jurisdiction)
        return dr

    def license(self, dr, type_, jurisdiction, status="active", event="recorded", license_id=None,
                expires="2030-01-01") -> str:
        license_id = license_id or random_id("lic")
        with Session(self.engine) as session, session.begin():
            uow = UnitOfWork(session, "credentialing", registry)
            emitted = uow.emit(f"credentialing.license.{event}", {
                "license_id": license_id, "clinician_id": dr, "credential_type": type_, "jurisdiction": jurisdiction,
                "number": license_id, "status": status, "issued_on": "2020-01-01", "expires_on": expires},
                actor=CRED)
        wait_for_handled(self.engine, "scheduling.on_license", emitted.id)
        return license_id

    def appointment(self, dr, at: datetime, clients=None, **overrides) -> dict:
        data = {"site_id": self.ny, "clinician_id": dr, "client_ids": clients or [random_id("client")],
                "kind": "individual", "service_kind": "individual_psychotherapy", "modality": "in_person",
                "room_id": self.room, "starts_at": at.isoformat(), "planned_minutes": 50}
        data.update(overrides)
        return data

    def outbox(self, prefix="scheduling.") -> list[dict]:
        with self.engine.connect() as conn:
            return list(conn.execute(text("SELECT message FROM outbox WHERE type LIKE :p ORDER BY seq"),
                                     {"p": prefix + "%"}).scalars())


def next_weekday_at(hour: int, days_ahead: int = 7, tz: str = "America/New_York") -> datetime:
    from zoneinfo import ZoneInfo

    day = date.today() + timedelta(days=days_ahead)
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=ZoneInfo(tz)).astimezone(UTC)
