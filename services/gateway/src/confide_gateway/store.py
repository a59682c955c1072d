"""The gateway's own SQL: Idempotency-Key claims and their stored answers."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from confide_gateway.models import idempotency_keys as k


def ping(session: Session) -> None:
    session.execute(select(1))


def claim_key(session: Session, user_id: str, key: str, method: str, path: str, digest: str):
    """None when this caller's key is new (now claimed); else the earlier claim's row."""
    claimed = session.execute(pg_insert(k).values(
        user_id=user_id, key=key, method=method, path=path, request_sha256=digest)
        .on_conflict_do_nothing().returning(k.c.key)).first()
    if claimed:
        return None
    return session.execute(select(k).where(k.c.user_id == user_id, k.c.key == key)).first()


def keep_answer(session: Session, user_id: str, key: str, status: int, body: str) -> None:
    session.execute(update(k).where(k.c.user_id == user_id, k.c.key == key).values(status=status, body=body))


def release_key(session: Session, user_id: str, key: str) -> None:
    """Let a retry try again (the first attempt failed on our side)."""
    session.execute(delete(k).where(k.c.user_id == user_id, k.c.key == key))
