"""Retention: entries are kept at least six years (HIPAA's documentation
retention, 45 CFR 164.316(b)(2)) and then purged, oldest first, a whole prefix
of a chain at a time -- never while a legal hold covers them.

A purge records where the chain now starts (its first sequence number, the
link before it and the Merkle frontier there) before it deletes anything, so
verification resumes from that point and inclusion proofs of what remains still
check against every checkpoint. The horizon is a multiple of the tile width:
every subtree a proof needs from the purged part is a stored tile.

The database holds the same rules (``audit_entries_guard``): it refuses to
delete an entry above the recorded horizon, within the retention period, or
under a hold, whoever asks. Only the database owner (the migration role) may
delete at all; the service's own users may not.
"""

from __future__ import annotations

import argparse
import logging
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from confide_contracts.errors import NotFound
from sqlalchemy import exists, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection

from confide_audit import store
from confide_audit.domain.chain import TILE_WIDTHS
from confide_audit.domain.entry import GENESIS
from confide_audit.domain.retention import RETENTION, Horizon
from confide_audit.models import batches, entries, legal_hold_releases, legal_holds, purges

log = logging.getLogger(__name__)

TILE = TILE_WIDTHS[0]


@dataclass(frozen=True)
class Purged:
    chain: int
    first_seq: int
    purged: int
    held_back_by: str | None = None


def active_holds():
    released = exists().where(legal_hold_releases.c.hold_id == legal_holds.c.id)
    return select(legal_holds).where(~released)


def list_holds(conn: Connection) -> list[dict]:
    rows = conn.execute(
        select(legal_holds, legal_hold_releases.c.released_at, legal_hold_releases.c.released_by,
               legal_hold_releases.c.reason.label("release_reason"))
        .outerjoin(legal_hold_releases, legal_hold_releases.c.hold_id == legal_holds.c.id)
        .order_by(legal_holds.c.placed_at)
    ).all()
    return [
        {"id": str(r.id), "client_id": r.client_id, "reason": r.reason, "placed_by": r.placed_by,
         "placed_at": r.placed_at.astimezone(UTC).isoformat(), "active": r.released_at is None,
         "released_at": r.released_at.astimezone(UTC).isoformat() if r.released_at else None,
         "released_by": r.released_by, "release_reason": r.release_reason}
        for r in rows
    ]


def place_hold(conn: Connection, client_id: str | None, reason: str, placed_by: str) -> uuid.UUID:
    hold_id = uuid.uuid4()
    conn.execute(insert(legal_holds).values(id=hold_id, client_id=client_id, reason=reason, placed_by=placed_by))
    return hold_id


def release_hold(conn: Connection, hold_id: uuid.UUID, reason: str, released_by: str) -> dict:
    """Raises NotFound for an unknown hold, ValueError for a released one.

    Two releases of one hold at once are kept apart by the releases table's
    primary key, not by a row lock: the service's role may only read and add to
    the trail's tables, and ``SELECT ... FOR UPDATE`` needs UPDATE."""
    row = conn.execute(select(legal_holds).where(legal_holds.c.id == hold_id)).first()
    if row is None:
        raise NotFound(f"no legal hold {hold_id}")
    released = conn.execute(pg_insert(legal_hold_releases).values(
        hold_id=hold_id, reason=reason, released_by=released_by).on_conflict_do_nothing()
        .returning(legal_hold_releases.c.hold_id)).first()
    if released is None:
        done = conn.execute(select(legal_hold_releases).where(legal_hold_releases.c.hold_id == hold_id)).first()
        raise ValueError(f"was already released on {done.released_at.date().isoformat()}")
    return {"id": str(hold_id), "client_id": row.client_id, "active": False}


def horizon(conn: Connection, chain: int) -> Horizon | None:
    row = conn.execute(
        select(purges).where(purges.c.chain == chain).order_by(purges.c.first_seq.desc()).limit(1)
    ).first()
    if row is None:
        return None
    return Horizon(row.first_seq, bytes(row.chain_hash), [bytes(h) for h in row.frontier])


def frontier_at(conn: Connection, chain: int, size: int) -> list[bytes]:
    """The Merkle frontier of the first ``size`` leaves (largest subtree first)."""
    tree = store.StoredTree(conn, chain)
    hashes, start = [], 0
    for bit in reversed(range(size.bit_length())):
        width = 1 << bit
        if size & width:
            hashes.append(tree.perfect(start, width))
            start += width
    return hashes


def purge_chain(conn: Connection, chain: int, now: datetime, purged_by: str) -> Purged:
    """Delete the chain's oldest entries that are past retention and under no
    hold, in ``conn``'s transaction (which must belong to the database owner)."""
    store.lock_chain(conn, chain)
    cutoff = now - RETENTION
    size = conn.execute(select(func.max(batches.c.size)).where(batches.c.chain == chain)).scalar() or 0
    start = horizon(conn, chain)
    done = start.first_seq if start else 0
    holds = active_holds().subquery()
    if conn.execute(select(holds.c.id).where(holds.c.client_id.is_(None)).limit(1)).first():
        return Purged(chain, done, 0, "a legal hold on the whole log")
    # the first entry that must stay: too young, or a held client's
    young = conn.execute(select(func.min(entries.c.seq)).where(
        entries.c.chain == chain, entries.c.seq >= done,
        (entries.c.occurred_at >= cutoff) | (entries.c.recorded_at >= cutoff))).scalar()
    held = conn.execute(select(func.min(entries.c.seq)).where(
        entries.c.chain == chain, entries.c.seq >= done,
        entries.c.client_id.in_(select(holds.c.client_id).where(holds.c.client_id.isnot(None))))).scalar()
    keep_from = min(s for s in (young, held, size) if s is not None)
    first = keep_from // TILE * TILE
    reason = "a legal hold on a client" if held is not None and (young is None or held < young) else None
    if first <= done:
        return Purged(chain, done, 0, reason)
    link = conn.execute(select(entries.c.chain_hash).where(entries.c.chain == chain,
                                                          entries.c.seq == first - 1)).scalar()
    conn.execute(insert(purges).values(
        chain=chain, first_seq=first, chain_hash=bytes(link) if link is not None else GENESIS,
        frontier=frontier_at(conn, chain, first), cutoff=cutoff, purged=first - done, purged_by=purged_by))
    conn.execute(text("SET LOCAL confide.audit_purge = 'on'"))
    deleted = conn.execute(entries.delete().where(entries.c.chain == chain, entries.c.seq >= done,
                                                  entries.c.seq < first)).rowcount
    conn.execute(text("SET LOCAL confide.audit_purge = 'off'"))
    if deleted != first - done:
        raise RuntimeError(f"chain {chain}: expected to purge {first - done} entries, found {deleted}")
    log.info("chain %s: purged entries %s..%s (older than %s)", chain, done, first - 1, cutoff.date())
    return Purged(chain, first, deleted, reason)


def purge(engine, now: datetime | None = None, purged_by: str = "retention") -> list[Purged]:
    """Purge every chain, one transaction per chain."""
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        chains = store.chains(conn)
    results = []
    for chain in chains:
        with engine.begin() as conn:
            results.append(purge_chain(conn, chain, now, purged_by))
    return results


def main(argv: list[str] | None = None) -> int:
    """``confide-audit-purge``: run by an operator with the audit database
    owner's credentials (the service's own users may not delete)."""
    from confide_persistence import create_engine

    parser = argparse.ArgumentParser(prog="confide-audit-purge", description=main.__doc__)
    parser.add_argument("--database-url", required=True, help="the audit database, as its owner")
    parser.add_argument("--by", default="retention", help="who runs the purge (recorded)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    engine = create_engine(args.database_url)
    try:
        for result in purge(engine, purged_by=args.by):
            held = f" (held back by {result.held_back_by})" if result.held_back_by else ""
            print(f"chain {result.chain}: purged {result.purged}, now starts at seq {result.first_seq}{held}")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["RETENTION", "Horizon", "Purged", "horizon", "purge", "purge_chain"]
