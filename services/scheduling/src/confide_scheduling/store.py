"""All of scheduling's SQL: sites, rooms, availability and leave, appointments
and their parties (the exclusion constraint's rows), series, the waitlist, and
the projections of credentialing's licences and supervisions."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import uuid_utils.compat as uuid_compat
from confide_contracts.errors import invalid, missing
from confide_licensure import License, Supervision
from confide_persistence import array_rows, plain
from psycopg.errors import DeadlockDetected
from psycopg.types.range import Range
from sqlalchemy import delete, func, insert, literal, or_, select, text, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from confide_scheduling import models as m
from confide_scheduling.domain.localtime import instant, zone


def new_id():
    return uuid_compat.uuid7()


def now() -> datetime:
    return datetime.now(UTC)


def site(conn: Connection, site_id: str):
    row = conn.execute(select(m.sites).where(m.sites.c.id == site_id)).first()
    if row is None:
        raise missing("site_id", f"no site {site_id}")
    return row


def appointments(conn: Connection, ids: list) -> list[dict[str, Any]]:
    """The appointments ``ids`` (which exist), in that order, each with its
    clients: one statement, however many (a day sheet was two per row)."""
    if not ids:
        return []
    a, p = m.appointments, m.appointment_parties
    clients = select(func.array_agg(p.c.party_id)).where(
        p.c.appointment_id == a.c.id, p.c.party_kind == "client").scalar_subquery().label("client_ids")
    found = {}
    for row in conn.execute(select(a, clients).where(a.c.id.in_(ids))):
        out = plain(row)
        out["client_ids"] = sorted(out["client_ids"] or ())
        found[out["id"]] = out
    return [found[str(i)] for i in ids]


def appointment(conn: Connection, aid) -> dict[str, Any]:
    return appointments(conn, [aid])[0]


def event_payload(conn: Connection, aid) -> dict[str, Any]:
    return payload_of(appointment(conn, aid))


def payload_of(a: dict[str, Any]) -> dict[str, Any]:
    """An appointment event's payload, from :func:`appointment`'s view of it."""
    keys = ("series_id", "site_id", "room_id", "clinician_id", "co_therapist_id", "client_ids", "kind",
            "service_kind", "modality", "client_jurisdiction", "starts_at", "ends_at", "planned_minutes", "status",
            "minutes", "cancelled_by", "late", "patient_present", "interactive_complexity")
    payload = {k: a[k] for k in keys}
    payload["appointment_id"] = a["id"]
    payload["reason"] = a["status_reason"]
    return payload


def availability_windows(conn: Connection, clinician_id: str, site_row, first: date, last: date):
    """The clinician's weekly windows at the site as UTC intervals, day by day in
    the site's zone (so 09:00 stays 09:00 across a daylight-saving change)."""
    tz = zone(site_row.time_zone)
    av = m.availability
    templates = conn.execute(select(av).where(
        av.c.clinician_id == clinician_id, av.c.site_id == site_row.id, av.c.valid_from <= last,
        or_(av.c.valid_until.is_(None), av.c.valid_until >= first))).all()
    windows = []
    day = first
    while day <= last:
        for t in templates:
            if t.weekday == day.weekday() and t.valid_from <= day and (t.valid_until is None or day <= t.valid_until):
                start, end = instant(day, t.starts, tz), instant(day, t.ends, tz)
                if start is not None and end is not None and end > start:
                    windows.append((start, end))
        day += timedelta(days=1)
    return sorted(windows)


def exceptions(conn: Connection, clinician_id: str, site_id: str, start: datetime, end: datetime):
    ex = m.availability_exceptions
    rows = conn.execute(select(ex.c.during).where(
        ex.c.during.op("&&")(Range(start, end)),
        or_(ex.c.clinician_id == clinician_id, ex.c.clinician_id.is_(None) & (ex.c.site_id == site_id)),
        or_(ex.c.site_id.is_(None), ex.c.site_id == site_id))).scalars()
    return [(r.lower, r.upper) for r in rows]


def busy_by_party(conn: Connection, kind: str, ids: list[str], start: datetime, end: datetime):
    p = m.appointment_parties
    out: dict[str, list] = {}
    if not ids:
        return out
    rows = conn.execute(select(p.c.party_id, p.c.during).where(
        p.c.party_kind == kind, p.c.party_id.in_(ids), p.c.active, p.c.during.op("&&")(Range(start, end))))
    for party, during in rows:
        out.setdefault(party, []).append((during.lower, during.upper))
    return out


def busy(conn: Connection, kind: str, ids: list[str], start: datetime, end: datetime):
    return [interval for intervals in busy_by_party(conn, kind, ids, start, end).values() for interval in intervals]


def find_appointments(conn: Connection, q: dict) -> list[dict[str, Any]]:
    a, p = m.appointments, m.appointment_parties
    query = select(a.c.id).where(a.c.starts_at >= q["starts_from"], a.c.starts_at < q["starts_before"])
    if q.get("site_id"):
        query = query.where(a.c.site_id == q["site_id"])
    if q.get("clinician_id"):
        query = query.where(or_(a.c.clinician_id == q["clinician_id"], a.c.co_therapist_id == q["clinician_id"]))
    if q.get("client_id"):
        query = query.where(a.c.id.in_(select(p.c.appointment_id).where(p.c.party_kind == "client",
                                                                        p.c.party_id == q["client_id"])))
    ids = conn.execute(query.order_by(a.c.starts_at).limit(500)).scalars().all()
    return appointments(conn, ids)


def count(conn: Connection, table) -> int:
    return conn.execute(select(func.count()).select_from(table)).scalar()


def ping(conn: Connection) -> int:
    return count(conn, m.licenses)


# --- sites, rooms, availability, leave ---------------------------------------------------
def add_site(conn: Connection, data: dict[str, Any]) -> bool:
    """False when a site with this id exists."""
    try:
        with conn.begin_nested():
            conn.execute(insert(m.sites).values(**data))
    except IntegrityError:
        return False
    return True


def add_room(conn: Connection, room_id, site_id: str, data: dict[str, Any]) -> bool:
    """False when the site has a room of that name."""
    try:
        with conn.begin_nested():
            conn.execute(insert(m.rooms).values(id=room_id, site_id=site_id, **data))
    except IntegrityError:
        return False
    return True


def room(conn: Connection, room_id, share: bool = False):
    """A room; ``share``: locked against change (a retirement waits for the booking, or the booking for it)."""
    query = select(m.rooms).where(m.rooms.c.id == room_id)
    return conn.execute(query.with_for_update(read=True) if share else query).first()


def rooms_for(conn: Connection, site_id: str, clients: int) -> list:
    """The site's rooms that hold ``clients``, smallest first."""
    r = m.rooms
    return conn.execute(select(r).where(r.c.site_id == site_id, r.c.capacity >= clients, r.c.retired_at.is_(None))
                        .order_by(r.c.capacity, r.c.name)).all()


def change(conn: Connection, table, row_id, **values):
    """Change a row (of ``sites``, ``rooms``, ``availability``) and return it as it is now, or None."""
    return conn.execute(update(table).where(table.c.id == row_id).values(**values).returning(table)).first()


def remove(conn: Connection, table, row_id):
    """Delete a row (an availability window, leave) and return what it was, or None."""
    return conn.execute(delete(table).where(table.c.id == row_id).returning(table)).first()


def row_of(conn: Connection, table, row_id, lock: bool = False):
    query = select(table).where(table.c.id == row_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def booked_in_room(conn: Connection, room_id) -> list:
    """Sessions still to come in a room."""
    a = m.appointments
    return conn.execute(select(a.c.id, a.c.starts_at, a.c.modality).where(
        a.c.room_id == room_id, a.c.status.in_(("booked", "checked_in")), a.c.starts_at > now(),
    ).order_by(a.c.starts_at)).all()


def add_availability(conn: Connection, availability_id, data: dict[str, Any]) -> None:
    conn.execute(insert(m.availability).values(id=availability_id, **data))


def add_exception(conn: Connection, exception_id, clinician_id: str | None, site_id: str | None,
                  starts: datetime, ends: datetime, reason: str | None) -> None:
    conn.execute(insert(m.availability_exceptions).values(
        id=exception_id, clinician_id=clinician_id, site_id=site_id, during=Range(starts, ends), reason=reason))


# --- appointments --------------------------------------------------------------------------
DEADLOCK_ATTEMPTS = 3
CLAIM_LOCK = 7302  # pg_advisory_xact_lock's first key: a claim on one party's time (the second: the party)


class Overlap(Exception):
    """The exclusion constraint refused a party's time; ``detail`` is PostgreSQL's."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


def _overlap(exc: IntegrityError) -> Overlap:
    detail = getattr(getattr(exc.orig, "diag", None), "message_detail", None) or ""
    if "conflicts with existing key" not in detail:
        raise exc
    return Overlap(detail.split("conflicts with existing key", 1)[1])


def add_appointment(conn: Connection, appointment_id, values: dict[str, Any], parties: list[tuple[str, str]],
                    starts: datetime, ends: datetime) -> None:
    """The appointment and a row per party; :class:`Overlap` if any party is taken then."""
    during = Range(starts, ends)

    def write() -> None:
        # the appointment and its parties' rows in one statement (:func:`array_rows`: compiled once, and
        # a refused booking leaves no aborted pipeline and no line in the log); the parties' foreign key is
        # checked at the statement's end, with the appointment there
        p = m.appointment_parties
        booked = insert(m.appointments).values(id=appointment_id, starts_at=starts, ends_at=ends, **values) \
            .returning(m.appointments.c.id).cte("booked")
        claims = array_rows("claims", party_kind=p.c.party_kind.type, party_id=p.c.party_id.type)
        conn.execute(insert(p).from_select(
            ["appointment_id", "party_kind", "party_id", "during"],
            select(booked.c.id, claims.c.party_kind, claims.c.party_id, literal(during, p.c.during.type))
            .select_from(booked).join(claims, true())),
            {"party_kind": [kind for kind, _ in parties], "party_id": [pid for _, pid in parties]})

    _claiming(conn, write, parties)


def party_key(kind: str, party_id: str) -> int:
    """The second key of the claim lock on a party's time (the first: :data:`CLAIM_LOCK`)."""
    return int.from_bytes(hashlib.blake2b(f"{kind}:{party_id}".encode(), digest_size=4).digest(), "big", signed=True)


def lock_parties(conn: Connection, parties: Iterable[tuple[str, str]]) -> None:
    """Queue behind every other claim on ``parties``' times, until this transaction ends.

    An exclusion constraint checks a row after inserting it, so two claims on
    the same time checked at once each waited on the other's row, and PostgreSQL
    broke the deadlock by failing one after a second (``deadlock_timeout``):
    fifty bookings of one slot at once took seconds, and one that failed three
    times was answered 503. So whatever writes parties' rows first takes a lock
    per party, before it touches any of their rows, all in one order and in one
    statement (PostgreSQL evaluates a select list left to right): claims on a
    party queue behind one another, each sees the last one committed and is told
    what it collides with at once. Two parties whose keys collide only queue
    needlessly; a lock this transaction holds is taken again at once."""
    keys = sorted({party_key(kind, str(party)) for kind, party in parties})
    if keys:
        locks = ", ".join(f"pg_advisory_xact_lock({CLAIM_LOCK}, :k{i})" for i in range(len(keys)))
        conn.execute(text(f"SELECT {locks}"), {f"k{i}": key for i, key in enumerate(keys)})


def parties_of(conn: Connection, appointment_ids) -> list[tuple[str, str]]:
    """Whose time the appointments hold (or held): (kind, id) of each party."""
    parties = m.appointment_parties
    return [tuple(row) for row in conn.execute(select(parties.c.party_kind, parties.c.party_id)
                                               .where(parties.c.appointment_id.in_(list(appointment_ids))))]


def _claiming(conn: Connection, write, parties: Iterable[tuple[str, str]]) -> None:
    """``write`` the rows that claim ``parties``' times, in a savepoint, once
    their claim locks are held (:func:`lock_parties`). The retry stays for a
    writer that takes no lock (a person at ``psql``): PostgreSQL still fails one
    side of such a deadlock, which tries again behind the other -- a conflict,
    not a server error."""
    lock_parties(conn, parties)
    for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
        try:
            with conn.begin_nested():
                write()
            return
        except IntegrityError as exc:
            raise _overlap(exc) from None
        except OperationalError as exc:
            if not isinstance(exc.orig, DeadlockDetected) or attempt == DEADLOCK_ATTEMPTS:
                raise


def move_appointment(conn: Connection, row, starts: datetime, ends: datetime, room_id, detached: bool) -> None:
    """New times (and room) for an appointment and its parties; :class:`Overlap` if taken. The caller
    holds the claim locks of its parties and of ``room_id``, taken before it released any of their
    rows (:func:`lock_parties`): a booking that waited on a released row would otherwise hold a lock
    the move then waited for."""
    def write() -> None:
        conn.execute(update(m.appointments).where(m.appointments.c.id == row.id).values(
            starts_at=starts, ends_at=ends, room_id=room_id, updated_at=now(), detached=row.detached or detached))
        parties = m.appointment_parties
        # the room may change (or be added to a telehealth session): its row goes with it
        conn.execute(delete(parties).where(parties.c.appointment_id == row.id, parties.c.party_kind == "room"))
        if room_id:
            conn.execute(insert(parties).values(appointment_id=row.id, party_kind="room",
                                                party_id=str(room_id), during=Range(starts, ends)))
        conn.execute(update(parties).where(parties.c.appointment_id == row.id).values(
            during=Range(starts, ends), active=True))

    _claiming(conn, write, ())


def reassign_appointment(conn: Connection, row, side: str, clinician_id: str) -> None:
    """Another clinician in ``side`` (``clinician_id`` or ``co_therapist_id``) of an appointment, no longer
    flagged; :class:`Overlap` if they are taken then."""
    parties = m.appointment_parties

    def write() -> None:
        conn.execute(update(m.appointments).where(m.appointments.c.id == row.id).values(
            {side: clinician_id, "needs_reassignment": False, "reassignment_reasons": None, "updated_at": now()}))
        conn.execute(delete(parties).where(parties.c.appointment_id == row.id, parties.c.party_kind == "clinician",
                                           parties.c.party_id == getattr(row, side)))
        conn.execute(insert(parties).values(appointment_id=row.id, party_kind="clinician", party_id=clinician_id,
                                            during=Range(row.starts_at, row.ends_at)))

    _claiming(conn, write, [("clinician", clinician_id)])


def flagged_query(site_ids, clinician_id: str | None, site_id: str | None):
    """Sessions still to come that need another clinician."""
    a = m.appointments
    query = select(a.c.id, a.c.starts_at).where(a.c.needs_reassignment.is_(True), a.c.status == "booked",
                                                a.c.starts_at > now())
    if site_ids is not None:
        query = query.where(a.c.site_id.in_(sorted(site_ids)))
    if clinician_id is not None:
        query = query.where(or_(a.c.clinician_id == clinician_id, a.c.co_therapist_id == clinician_id))
    if site_id is not None:
        query = query.where(a.c.site_id == site_id)
    return query


def release_parties(conn: Connection, appointment_id) -> None:
    """The appointment no longer holds anyone's time."""
    conn.execute(update(m.appointment_parties).where(m.appointment_parties.c.appointment_id == appointment_id)
                 .values(active=False))


def appointment_row(conn: Connection, appointment_id, lock: bool = False):
    query = select(m.appointments).where(m.appointments.c.id == appointment_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def change_appointment(conn: Connection, appointment_id, **values) -> None:
    conn.execute(update(m.appointments).where(m.appointments.c.id == appointment_id)
                 .values(updated_at=now(), **values))


def series_from(conn: Connection, row) -> list:
    """The series' occurrences from ``row`` on still booked (those moved on their own excepted), locked."""
    a = m.appointments
    return conn.execute(select(a).where(
        a.c.series_id == row.series_id, a.c.occurrence >= row.occurrence, a.c.status == "booked",
        or_(a.c.id == row.id, a.c.detached.is_(False))).order_by(a.c.occurrence).with_for_update()).all()


def add_series(conn: Connection, series_id, rrule: str, first_local: datetime, template: dict[str, Any],
               created_by: str) -> None:
    conn.execute(insert(m.series).values(id=series_id, rrule=rrule, first_local=first_local, template=template,
                                         created_by=created_by))


def series_row(conn: Connection, series_id, lock: bool = False):
    query = select(m.series).where(m.series.c.id == series_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def series_appointments(conn: Connection, series_id) -> list:
    """Every occurrence booked for a series (whatever became of it), in order."""
    a = m.appointments
    return conn.execute(select(a).where(a.c.series_id == series_id).order_by(a.c.occurrence)).all()


def change_series(conn: Connection, series_id, rrule: str) -> None:
    conn.execute(update(m.series).where(m.series.c.id == series_id).values(rrule=rrule))


def future_booked_of(conn: Connection, clinician_id: str) -> list:
    """A clinician's future booked appointments not yet flagged, locked."""
    a = m.appointments
    return conn.execute(select(a).where(
        or_(a.c.clinician_id == clinician_id, a.c.co_therapist_id == clinician_id), a.c.status == "booked",
        a.c.starts_at > now(), a.c.needs_reassignment.is_(False)).with_for_update()).all()


# --- waitlist ----------------------------------------------------------------------------------
def add_waitlist_entry(conn: Connection, entry_id, data: dict[str, Any]) -> None:
    conn.execute(insert(m.waitlist).values(id=entry_id, status="waiting", **data))


def waitlist_entry(conn: Connection, entry_id, lock: bool = False):
    query = select(m.waitlist).where(m.waitlist.c.id == entry_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def next_waiting(conn: Connection, freed, passed=()):
    """The first waiting entry the freed appointment suits of a client who has not
    passed it, locked (others skip it)."""
    w = m.waitlist
    return conn.execute(select(w).where(
        w.c.site_id == freed.site_id, w.c.service_kind == freed.service_kind, w.c.status == "waiting",
        or_(w.c.clinician_id.is_(None), w.c.clinician_id == freed.clinician_id),
        w.c.client_id.notin_(list(passed)) if passed else True,
    ).order_by(w.c.created_at).limit(1).with_for_update(skip_locked=True)).first()


def offers_for(conn: Connection, client_id: str) -> list:
    w = m.waitlist
    return conn.execute(select(w).where(w.c.client_id == client_id, w.c.status == "offered")
                        .order_by(w.c.offer_expires_at)).all()


def client_appointments_query(client_id: str, upcoming: bool):
    """A client's appointments still to come (or past), as a query to page."""
    a, p = m.appointments, m.appointment_parties
    mine = select(p.c.appointment_id).where(p.c.party_kind == "client", p.c.party_id == client_id)
    return select(a.c.id, a.c.starts_at).where(a.c.id.in_(mine), a.c.ends_at > now() if upcoming
                                               else a.c.ends_at <= now())


def lapsed_offers(conn: Connection, at: datetime, limit: int) -> list:
    """Offers that lapsed by ``at``, locked; rows another transaction holds are skipped."""
    w = m.waitlist
    return conn.execute(select(w).where(w.c.status == "offered", w.c.offer_expires_at <= at)
                        .order_by(w.c.offer_expires_at).limit(limit).with_for_update(skip_locked=True)).all()


def change_waitlist_entry(conn: Connection, entry_id, **values) -> None:
    conn.execute(update(m.waitlist).where(m.waitlist.c.id == entry_id).values(**values))


# --- projections of credentialing ---------------------------------------------------------------
def apply_license(conn: Connection, license_id: str, values: dict[str, Any]) -> None:
    """Upsert a licence unless a later event already did (``as_of``)."""
    statement = pg_insert(m.licenses).values(id=license_id, **values)
    conn.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values,
                                                 where=m.licenses.c.as_of <= statement.excluded.as_of))


def licensure_facts(conn: Connection, clinician_id: str) -> tuple[list[License], list[Supervision]]:
    """The clinician's licences and supervisions (with the supervisors'
    licences) as the projection holds them, in two queries."""
    lic, s = m.licenses, m.supervisions
    supervision_rows = conn.execute(select(s).where(s.c.supervisee_id == clinician_id)).all()
    people = {clinician_id} | {r.supervisor_id for r in supervision_rows}
    held: dict[str, list[License]] = {p: [] for p in people}
    for r in conn.execute(select(lic).where(lic.c.clinician_id.in_(people))):
        held[r.clinician_id].append(License(r.id, r.type, r.jurisdiction, r.number, r.status, r.issued_on,
                                            r.expires_on))
    supervisions = [Supervision(r.supervisor_id, r.jurisdiction, r.starts_on, r.ends_on,
                                tuple(held[r.supervisor_id])) for r in supervision_rows]
    return held[clinician_id], supervisions


# --- day sheets and the names on them -------------------------------------------------------
def set_client_name(conn: Connection, client_id: str, display_name: str | None, as_of: datetime) -> None:
    """The name as of an event; an older event (a redelivery, out of order) never overwrites a newer one."""
    n = m.client_names
    statement = pg_insert(n).values(client_id=client_id, display_name=display_name, updated_at=as_of)
    conn.execute(statement.on_conflict_do_update(
        index_elements=[n.c.client_id], where=n.c.updated_at < statement.excluded.updated_at,
        set_={"display_name": statement.excluded.display_name, "updated_at": statement.excluded.updated_at}))


def client_names(conn: Connection, client_ids) -> dict[str, str | None]:
    n = m.client_names
    return dict(conn.execute(select(n.c.client_id, n.c.display_name).where(n.c.client_id.in_(list(client_ids)))).all())


def supervisees(conn: Connection, supervisor_id: str, on: date) -> frozenset[str]:
    s = m.supervisions
    return frozenset(conn.execute(select(s.c.supervisee_id).where(
        s.c.supervisor_id == supervisor_id, s.c.starts_on <= on, or_(s.c.ends_on.is_(None), s.c.ends_on >= on)
    )).scalars())


def sites_by_id(conn: Connection, site_ids) -> dict[str, Any]:
    return {r.id: r for r in conn.execute(select(m.sites).where(m.sites.c.id.in_(list(site_ids))))}


def room_names(conn: Connection, room_ids) -> dict[str, str]:
    rows = conn.execute(select(m.rooms.c.id, m.rooms.c.name).where(m.rooms.c.id.in_(list(room_ids))))
    return {str(r.id): r.name for r in rows}


SHEET_ROWS = 2000


def sheet_appointments(conn: Connection, site_ids, clinician_id: str | None, since: datetime,
                       until: datetime) -> list[dict[str, Any]]:
    a = m.appointments
    query = select(a.c.id).where(a.c.starts_at >= since, a.c.starts_at < until)
    if site_ids is not None:
        query = query.where(a.c.site_id.in_(list(site_ids)))
    if clinician_id is not None:
        query = query.where(or_(a.c.clinician_id == clinician_id, a.c.co_therapist_id == clinician_id))
    ids = conn.execute(query.order_by(a.c.starts_at, a.c.id).limit(SHEET_ROWS + 1)).scalars().all()
    if len(ids) > SHEET_ROWS:
        raise invalid("days", f"more than {SHEET_ROWS} appointments: ask for fewer days, or one site or clinician")
    return appointments(conn, ids)
