"""Reads of the credentialing database, shaped for the licensure answer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import uuid_utils.compat as uuid_compat
from confide_licensure import License, Supervision
from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

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
