"""Wakes this process's outbox relays when a transaction that wrote to their
outbox commits.

It replaces ``NOTIFY``: PostgreSQL serializes every committing transaction that
sent a notification (a cluster-wide lock, held through the commit's WAL flush),
so concurrent commits that each wrote an event could not share a flush: 20
writers at once commit 1.36x as often without it (``make bench NAME=relay``).
A service's workers and its relay share a process, so a signal in the process
serves; the relay's poll (``OUTBOX_POLL_SECONDS``) covers a write from anywhere
else.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from sqlalchemy import event
from sqlalchemy.orm import Session

_bells: dict[str, set[threading.Event]] = defaultdict(set)  # database name -> its relays' bells
_lock = threading.Lock()
RINGS = "confide_rings"  # (in Session.info: the database whose relays the commit rings)


def hang(database: str, bell: threading.Event | None = None) -> threading.Event:
    """``bell`` (or a new one), rung when a write to ``database``'s outbox commits in this process."""
    bell = bell or threading.Event()
    with _lock:
        _bells[database].add(bell)
    return bell


def take_down(database: str, bell: threading.Event) -> None:
    with _lock:
        _bells[database].discard(bell)


def ring(database: str) -> None:
    for bell in list(_bells.get(database, ())):
        bell.set()


def ring_after_commit(session: Session) -> None:
    """Ring the bells of the database ``session`` wrote to once its transaction
    commits -- the whole transaction, not a savepoint (however many events it
    writes: one ring)."""
    if RINGS not in session.info:
        session.info[RINGS] = session.connection().engine.url.database or ""


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: nothing is visible to the relay yet
    database = session.info.pop(RINGS, None)
    if database is not None:
        ring(database)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(RINGS, None)
