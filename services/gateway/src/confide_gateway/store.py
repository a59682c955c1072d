"""The gateway's own SQL: Idempotency-Key claims and their stored answers; the
console's sign-ins and sessions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from confide_gateway import models as m
from confide_gateway.models import idempotency_keys as k

LOGIN_TIME = timedelta(minutes=10)  # to sign in at the provider, once sent there


def ping(session: Session) -> None:
    session.execute(select(1))


def claim_key(session: Session, user_id: str, key: str, method: str, path: str, digest: str, hours: float):
    """None when this caller's key is new (now claimed); else the earlier claim's
    row. A key older than ``hours`` is forgotten (and may be used again)."""
    session.execute(delete(k).where(k.c.user_id == user_id, k.c.key == key,
                                    k.c.created_at < func.now() - timedelta(hours=hours)))
    forget_expired(session, hours, limit=50)  # (other old keys go a few at a time, with the traffic)
    claimed = session.execute(pg_insert(k).values(
        user_id=user_id, key=key, method=method, path=path, request_sha256=digest)
        .on_conflict_do_nothing().returning(k.c.key)).first()
    if claimed:
        return None
    return session.execute(select(k).where(k.c.user_id == user_id, k.c.key == key)).first()


def keep_answer(session: Session, user_id: str, key: str, status: int, resource_id: str | None) -> None:
    session.execute(update(k).where(k.c.user_id == user_id, k.c.key == key)
                    .values(status=status, resource_id=resource_id))


def forget_expired(session: Session, hours: float, limit: int = 1000) -> int:
    """Remove up to ``limit`` keys older than ``hours``; how many went."""
    old = select(k.c.user_id, k.c.key).where(k.c.created_at < func.now() - timedelta(hours=hours)).limit(limit)
    return session.execute(delete(k).where(tuple_(k.c.user_id, k.c.key).in_(old))).rowcount


def release_key(session: Session, user_id: str, key: str) -> None:
    """Let a retry try again (the first attempt failed on our side)."""
    session.execute(delete(k).where(k.c.user_id == user_id, k.c.key == key))


# --- the console's sign-ins and sessions -----------------------------------------------------
def save_login(session: Session, state_sha256: str, verifier: str, nonce: str, return_to: str) -> None:
    session.execute(delete(m.console_logins).where(m.console_logins.c.created_at < func.now() - LOGIN_TIME))
    session.execute(pg_insert(m.console_logins).values(state_sha256=state_sha256, verifier=verifier, nonce=nonce,
                                                       return_to=return_to))


def take_login(session: Session, state_sha256: str):
    """The sign-in begun with this state, once (it is gone after), if begun within ``LOGIN_TIME``."""
    cl = m.console_logins
    return session.execute(delete(cl).where(cl.c.state_sha256 == state_sha256, cl.c.created_at >= func.now() -
                                            LOGIN_TIME).returning(cl)).first()


def add_session(session: Session, cookie_sha256: str, **values) -> None:
    session.execute(delete(m.console_sessions).where(m.console_sessions.c.expires_at < func.now()))
    session.execute(pg_insert(m.console_sessions).values(cookie_sha256=cookie_sha256, **values))


def console_session(session: Session, cookie_sha256: str, lock: bool = False):
    cs = m.console_sessions
    query = select(cs).where(cs.c.cookie_sha256 == cookie_sha256, cs.c.expires_at > func.now())
    return session.execute(query.with_for_update() if lock else query).first()


def change_session(session: Session, cookie_sha256: str, **values) -> None:
    session.execute(update(m.console_sessions).where(m.console_sessions.c.cookie_sha256 == cookie_sha256)
                    .values(**values))


def end_session(session: Session, cookie_sha256: str):
    cs = m.console_sessions
    return session.execute(delete(cs).where(cs.c.cookie_sha256 == cookie_sha256).returning(cs)).first()
