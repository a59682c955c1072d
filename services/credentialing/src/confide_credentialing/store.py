"""All of credentialing's SQL: clinicians, licences and their verifications,
supervisions and expiry notices; reads shaped for the licensure answer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import uuid_utils.compat as uuid_compat
from confide_licensure import License, Supervision
from confide_persistence import plain
from sqlalchemy import insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from confide_credentialing import models as m


def new_id():
    return uuid_compat.uuid7()


def now() -> datetime:
    return datetime.now(UTC)


def as_license(row) -> License:
    return License(id=str(row.id), type=row.type, jurisdiction=row.jurisdiction, number=row.number,
                   status=row.status, issued_on=row.issued_on, expires_on=row.expires_on)


def licenses_of(conn: Connection, clinician_ids) -> dict[str, list[License]]:
    out: dict[str, list[License]] = {c: [] for c in clinician_ids}
    for row in conn.execute(select(m.licenses).where(m.licenses.c.clinician_id.in_(list(clinician_ids)))):
        out[row.clinician_id].append(as_license(row))
    return out


def supervisions_of(conn: Connection, supervisee_ids, on: date) -> dict[str, list[Supervision]]:
    """Each supervisee's supervisions around ``on``, with their supervisors' licences."""
    s = m.supervisions
    rows = conn.execute(select(s).where(s.c.supervisee_id.in_(list(supervisee_ids)), s.c.starts_on <= on,
                                        or_(s.c.ends_on.is_(None), s.c.ends_on >= on))).all()
    supervisors = licenses_of(conn, {r.supervisor_id for r in rows})
    out: dict[str, list[Supervision]] = {c: [] for c in supervisee_ids}
    for r in rows:
        out[r.supervisee_id].append(Supervision(r.supervisor_id, r.jurisdiction, r.starts_on, r.ends_on,
                                                tuple(supervisors[r.supervisor_id])))
    return out


def license_row(conn: Connection, license_id, lock: bool = False):
    query = select(m.licenses).where(m.licenses.c.id == license_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def license_event(row, **extra) -> dict[str, Any]:
    return {"license_id": str(row.id), "clinician_id": row.clinician_id, "credential_type": row.type,
            "jurisdiction": row.jurisdiction, "number": row.number, "status": row.status,
            "issued_on": row.issued_on.isoformat(), "expires_on": row.expires_on.isoformat(), **extra}


# --- clinicians -------------------------------------------------------------------
class AlreadyRegistered(Exception):
    """A clinician with this ``field`` (id, national_id) exists."""

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(field)


def add_clinician(conn: Connection, created_by: str, data: dict[str, Any]) -> None:
    try:
        with conn.begin_nested():
            conn.execute(insert(m.clinicians).values(created_by=created_by, **data))
    except IntegrityError as exc:
        raise AlreadyRegistered("national_id" if "national_id" in str(exc.orig) else "id") from None


def clinician(conn: Connection, clinician_id: str) -> dict[str, Any] | None:
    """A clinician with their licences and supervisions (either side)."""
    row = conn.execute(select(m.clinicians).where(m.clinicians.c.id == clinician_id)).first()
    if row is None:
        return None
    result = plain(row)
    lic, s = m.licenses, m.supervisions
    result["licenses"] = [plain(r) for r in conn.execute(
        select(lic).where(lic.c.clinician_id == clinician_id).order_by(lic.c.jurisdiction, lic.c.type))]
    result["supervisions"] = [plain(r) for r in conn.execute(
        select(s).where((s.c.supervisor_id == clinician_id) | (s.c.supervisee_id == clinician_id))
        .order_by(s.c.starts_on))]
    return result


def known_clinicians(conn: Connection, ids) -> set[str]:
    return set(conn.execute(select(m.clinicians.c.id).where(m.clinicians.c.id.in_(list(ids)))).scalars())


# --- licences ---------------------------------------------------------------------
def add_license(conn: Connection, license_id, clinician_id: str, created_by: str, data: dict[str, Any]) -> bool:
    """False when the same licence (type, number, jurisdiction) is already recorded."""
    try:
        with conn.begin_nested():
            conn.execute(insert(m.licenses).values(id=license_id, clinician_id=clinician_id, status="pending",
                                                   created_by=created_by, **data))
    except IntegrityError:
        return False
    return True


def change_license(conn: Connection, license_id, **values) -> None:
    conn.execute(update(m.licenses).where(m.licenses.c.id == license_id).values(updated_at=now(), **values))


def add_verification(conn: Connection, license_id, verified_by: str, at: datetime, data: dict[str, Any]) -> None:
    conn.execute(insert(m.verifications).values(id=new_id(), license_id=license_id, verified_by=verified_by,
                                                verified_at=at, **data))


def tracked_licenses(conn: Connection, statuses, *, expiring_after: date | None = None,
                     expiring_by: date) -> list:
    """Licences in ``statuses`` expiring by ``expiring_by`` (and after ``expiring_after``), soonest first."""
    lic = m.licenses
    query = select(lic).where(lic.c.status.in_([str(s) for s in statuses]), lic.c.expires_on <= expiring_by)
    if expiring_after is not None:
        query = query.where(lic.c.expires_on > expiring_after)
    return conn.execute(query.order_by(lic.c.expires_on)).all()


def claim_notice(conn: Connection, license_id, notice: str, expires_on: date) -> bool:
    """True the first time this notice is claimed for this expiry date, never again."""
    claimed = conn.execute(pg_insert(m.expiry_notices).values(
        license_id=license_id, notice=notice, expires_on=expires_on).on_conflict_do_nothing()
        .returning(m.expiry_notices.c.license_id)).first()
    return claimed is not None


# --- supervisions -----------------------------------------------------------------
def add_supervision(conn: Connection, supervision_id, created_by: str, data: dict[str, Any]) -> None:
    conn.execute(insert(m.supervisions).values(id=supervision_id, created_by=created_by, **data))


def supervision(conn: Connection, supervision_id, lock: bool = False):
    query = select(m.supervisions).where(m.supervisions.c.id == supervision_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def end_supervision(conn: Connection, supervision_id, ends_on: date) -> None:
    conn.execute(update(m.supervisions).where(m.supervisions.c.id == supervision_id).values(ends_on=ends_on))


def ping(conn: Connection) -> None:
    conn.execute(select(1))
