"""The scheduling service's entrypoints for what bookings are made against:
sites, rooms, availability windows and leave -- listed, changed and removed.
:class:`~confide_scheduling.service.SchedulingService` is made of this and its
own entrypoints; authorization is ``domain/policy.py``, the work ``sites`` and
``listing``."""

from __future__ import annotations

from typing import Any

from confide_access import Action, Caller, enforce, load, parse_id, rpc
from confide_contracts.errors import EXPECTED, invalid
from confide_contracts.rpc.scheduling import (
    AvailabilityChangesSchema,
    AvailabilityListSchema,
    ExceptionListSchema,
    RoomListSchema,
    RoomSchema,
    SiteChangesSchema,
    SiteListSchema,
)

from confide_scheduling import listing, sites
from confide_scheduling import models as m
from confide_scheduling.domain import policy


class SiteAdministration:
    """Entrypoints of :class:`~confide_scheduling.service.SchedulingService` (its ``uow``, ``_admin`` and
    ``_may_book``)."""

    @rpc(expected_exceptions=EXPECTED)
    def list_sites(self, caller: Caller, query: dict) -> dict[str, Any]:
        """Staff see their sites, officers every site."""
        q = load(SiteListSchema(), query)
        enforce(self.uow, caller, policy.may_list_sites(caller), action=Action.READ, resource_type="Location")
        with self.uow() as uow:
            return listing.sites(uow, caller, q)

    @rpc(expected_exceptions=EXPECTED)
    def update_site(self, caller: Caller, site_id: str, changes: dict) -> dict[str, Any]:
        """Name, address, the late-cancel notice and how long a waitlist offer stands."""
        data = _changes(SiteChangesSchema(), changes)
        self._admin(caller, site_id, "change sites")
        with self.uow() as uow:
            return sites.change_site(uow, site_id, data)

    @rpc(expected_exceptions=EXPECTED)
    def list_rooms(self, caller: Caller, site_id: str, query: dict) -> dict[str, Any]:
        q = load(RoomListSchema(), query)
        enforce(self.uow, caller, policy.may_read_site(caller, site_id), action=Action.READ,
                resource_type="Location", resource_id=site_id)
        with self.uow() as uow:
            return listing.rooms(uow, site_id, q)

    @rpc(expected_exceptions=EXPECTED)
    def update_room(self, caller: Caller, room_id: str, changes: dict) -> dict[str, Any]:
        data = _changes(RoomSchema(), changes)
        rid = parse_id(room_id, "room_id")
        with self.uow() as uow:
            self._admin(caller, sites.existing(uow, m.rooms, rid, "room_id").site_id, "change rooms")
            return sites.change_room(uow, rid, data)

    @rpc(expected_exceptions=EXPECTED)
    def retire_room(self, caller: Caller, room_id: str) -> dict[str, Any]:
        """Take a room out of booking (refused while sessions are still to come in it)."""
        rid = parse_id(room_id, "room_id")
        with self.uow() as uow:
            self._admin(caller, sites.existing(uow, m.rooms, rid, "room_id").site_id, "retire rooms")
            return sites.retire_room(uow, rid)

    @rpc(expected_exceptions=EXPECTED)
    def list_availability(self, caller: Caller, query: dict) -> dict[str, Any]:
        q = load(AvailabilityListSchema(), query)
        self._may_list(caller, q["clinician_id"], "availability")
        with self.uow() as uow:
            return listing.availability(uow, caller, q)

    @rpc(expected_exceptions=EXPECTED)
    def update_availability(self, caller: Caller, availability_id: str, changes: dict) -> dict[str, Any]:
        data = _changes(AvailabilityChangesSchema(), changes)
        aid = parse_id(availability_id, "availability_id")
        with self.uow() as uow:
            window = sites.existing(uow, m.availability, aid, "availability_id")
            self._may_book(caller, window.site_id, window.clinician_id, "set availability")
            return sites.change_availability(uow, window, data)

    @rpc(expected_exceptions=EXPECTED)
    def remove_availability(self, caller: Caller, availability_id: str) -> dict[str, Any]:
        aid = parse_id(availability_id, "availability_id")
        with self.uow() as uow:
            window = sites.existing(uow, m.availability, aid, "availability_id")
            self._may_book(caller, window.site_id, window.clinician_id, "set availability")
            sites.remove(uow, m.availability, aid)
        return {"id": str(aid), "removed": True}

    @rpc(expected_exceptions=EXPECTED)
    def list_exceptions(self, caller: Caller, query: dict) -> dict[str, Any]:
        q = load(ExceptionListSchema(), query)
        self._may_list(caller, q["clinician_id"], "leave")
        with self.uow() as uow:
            return listing.exceptions(uow, caller, q)

    @rpc(expected_exceptions=EXPECTED)
    def remove_exception(self, caller: Caller, exception_id: str) -> dict[str, Any]:
        eid = parse_id(exception_id, "exception_id")
        with self.uow() as uow:
            leave = sites.existing(uow, m.availability_exceptions, eid, "exception_id")
            enforce(self.uow, caller, policy.may_record_leave(caller, leave.clinician_id, leave.site_id),
                    action=Action.DELETE, resource_type="Schedule", resource_id=str(eid))
            sites.remove(uow, m.availability_exceptions, eid)
        return {"id": str(eid), "removed": True}

    def _may_list(self, caller: Caller, clinician_id: str | None, what: str) -> Caller:
        return enforce(self.uow, caller, policy.may_list_schedules(caller, clinician_id, what), action=Action.READ,
                       resource_type="Schedule", resource_id=clinician_id or what)


def _changes(schema, changes: dict) -> dict[str, Any]:
    """A PATCH body: the fields given, each checked; at least one."""
    data = load(schema, changes, partial=True)
    if not data:
        raise invalid("changes", "nothing to change")
    return data
