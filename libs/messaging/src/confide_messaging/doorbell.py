"""Wakes this process's outbox relays when a transaction that wrote to their
outbox commits.

It replaces ``NOTIFY``: PostgreSQL serializes every committing transaction that
sent a notification (a cluster-wide lock, held through the commit's WAL flush),
so concurrent commits that each recorded an access could no longer share a
flush -- 20 concurrent writers committed half as often (``make bench
NAME=records``). A service's workers and its relay share a process, so a signal
in the process serves; the relay's poll (``OUTBOX_POLL_SECONDS``) covers a
write from anywhere else.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from sqlalchemy import event
from sqlalchemy.orm import Session

_bells: dict[str, set[threading.Event]] = defaultdict(set)  # database name -> its relays' bells
_lock = threading.Lock()


def hang(database: str) -> threading.Event:
    """A bell that rings when a write to ``database``'s outbox commits in this process."""
    bell = threading.Event()
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
    """Ring ``session``'s database's bells once its transaction commits (once per
    transaction, however many events it writes)."""
    transaction = session.get_transaction()
    if session.info.get("confide_rings") is transaction:
        return
    session.info["confide_rings"] = transaction
    bind = session.get_bind()
    database = getattr(bind, "engine", bind).url.database or ""
    event.listen(session, "after_commit", lambda _: ring(database), once=True)
