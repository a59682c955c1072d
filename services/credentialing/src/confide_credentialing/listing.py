"""Lists of clinicians, licences and supervisions, filtered, sorted and paged
by key (:mod:`confide_contracts.paging`). They name staff, not clients: every
member of staff may read them, as they may ask who may practise where."""

from __future__ import annotations

from typing import Any

from confide_contracts.paging import page
from confide_messaging import UnitOfWork
from confide_persistence import plain
from sqlalchemy import and_, exists, func, or_, select

from confide_credentialing import models as m
from confide_credentialing.domain.licence import LicenceStatus


def clinicians(uow: UnitOfWork, q: dict[str, Any]) -> dict[str, Any]:
    c, lic = m.clinicians, m.licenses
    query = select(c.c.id, c.c.given_name, c.c.family_name, c.c.national_id, c.c.home_site_id, c.c.email)
    if q["home_site_id"]:
        query = query.where(c.c.home_site_id == q["home_site_id"])
    if q["name"]:
        start = q["name"].strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(c.c.family_name).like(start), func.lower(c.c.given_name).like(start)))
    if q["licensed_in"]:
        query = query.where(exists().where(and_(lic.c.clinician_id == c.c.id, lic.c.jurisdiction == q["licensed_in"],
                                                lic.c.status == LicenceStatus.ACTIVE.value)))
    sorts = {"name": (c.c.family_name, c.c.given_name, c.c.id), "id": (c.c.id,)}
    return page(uow.session.connection(), query, sorts, q, plain)


def licences(uow: UnitOfWork, q: dict[str, Any]) -> dict[str, Any]:
    lic = m.licenses
    query = select(lic)
    for name in ("clinician_id", "jurisdiction", "status"):
        if q[name]:
            query = query.where(lic.c[name] == q[name])
    if q["expires_before"]:
        query = query.where(lic.c.expires_on < q["expires_before"])
    sorts = {"expires": (lic.c.expires_on, lic.c.id), "clinician": (lic.c.clinician_id, lic.c.expires_on, lic.c.id)}
    return page(uow.session.connection(), query, sorts, q, plain)


def supervisions(uow: UnitOfWork, q: dict[str, Any]) -> dict[str, Any]:
    s = m.supervisions
    query = select(s)
    for name in ("supervisor_id", "supervisee_id"):
        if q[name]:
            query = query.where(s.c[name] == q[name])
    if q["on"]:
        query = query.where(s.c.starts_on <= q["on"], or_(s.c.ends_on.is_(None), s.c.ends_on >= q["on"]))
    return page(uow.session.connection(), query, {"starts": (s.c.starts_on, s.c.id)}, q, plain)
