"""The witness's SQL: the latest cosigned checkpoint of each log, read under a
row lock so that the size check and the move forward are one step (two
submissions at once cannot roll a log back), and the evidence it keeps."""

from __future__ import annotations

import uuid_utils.compat as uuid_compat
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from confide_witness import models as m
from confide_witness.domain.policy import NEVER, Latest


def ping(session: Session) -> None:
    session.execute(select(1))


def locked_latest(session: Session, origin: str) -> Latest:
    """The latest cosigned (size, root) of ``origin``, locked until the transaction ends."""
    session.execute(pg_insert(m.latest).values(origin=origin, size=NEVER.size, root_hash=NEVER.root_hash, note="")
                    .on_conflict_do_nothing())
    row = session.execute(select(m.latest.c.size, m.latest.c.root_hash).where(m.latest.c.origin == origin)
                          .with_for_update()).one()
    return Latest(row.size, bytes(row.root_hash))


def cosigned(session: Session, origin: str, size: int, root_hash: bytes, note: str) -> None:
    session.execute(update(m.latest).where(m.latest.c.origin == origin)
                    .values(size=size, root_hash=root_hash, note=note, updated_at=func.now()))


def latest_note(session: Session, origin: str) -> str | None:
    note = session.execute(select(m.latest.c.note).where(m.latest.c.origin == origin)).scalar()
    return note or None


def keep_evidence(session: Session, origin: str, status: int, reason: str, request: str) -> None:
    session.execute(m.evidence.insert().values(id=uuid_compat.uuid7(), origin=origin, status=status,
                                               reason=reason[:500], request=request))

