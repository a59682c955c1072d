"""The audit service's database work: appending batches, tiles for proofs,
checkpoints, and reading entries back for queries and verification."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime

from confide_contracts.audit_export import DOCUMENT_FIELDS, SQL_CANONICAL_TIMESTAMP
from confide_contracts.errors import NotFound
from confide_tlog.merkle import node_hash
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection

from confide_audit.domain.chain import TILE_WIDTHS, Appending, ChainHead
from confide_audit.domain.entry import FACT_FIELDS
from confide_audit.domain.verify import StoredCheckpoint, StoredEntry
from confide_audit.models import batches, checkpoints, cosignatures, entries, ingested, tiles

TIMESTAMPS = ("recorded_at", "occurred_at")
ENTRY_COLUMNS = ("chain", "seq", "recorded_at", *FACT_FIELDS, "leaf_hash", "chain_hash")


def lock_chain(conn: Connection, chain: int) -> None:
    """One writer per chain even if two consumers ever overlap during failover."""
    conn.execute(text("SELECT pg_advisory_xact_lock(8675309, :chain)"), {"chain": chain})


def load_head(conn: Connection, chain: int) -> ChainHead:
    row = conn.execute(
        select(batches.c.size, batches.c.chain_hash, batches.c.frontier)
        .where(batches.c.chain == chain)
        .order_by(batches.c.size.desc())
        .limit(1)
    ).first()
    if row is None:
        return ChainHead(chain)
    return ChainHead(chain, row.size, bytes(row.chain_hash), [bytes(h) for h in row.frontier])


def already_ingested(conn: Connection, event_ids: Sequence[str]) -> set[str]:
    if not event_ids:
        return set()
    return set(
        conn.execute(select(ingested.c.event_id).where(ingested.c.event_id.in_(event_ids))).scalars()
    )


_known_partitions: set[tuple[str, str]] = set()


def ensure_partitions(conn: Connection, times: Sequence[datetime]) -> list[tuple[str, str]]:
    """Make the monthly partitions these times fall in; returns those made, for
    :func:`remember_partitions` once the transaction has committed (a batch that
    fails rolls its partition back too: remembering it earlier sent every later
    batch of that month to a partition that was never there)."""
    database = conn.engine.url.database or ""
    months = [f"{year:04d}-{month:02d}-01" for year, month in sorted({(t.year, t.month) for t in times})]
    made = []
    for month in months:
        if (database, month) in _known_partitions:
            continue
        conn.execute(text("SELECT audit_ensure_partition(CAST(:m AS date))"), {"m": month})
        made.append((database, month))
    return made


def remember_partitions(made: Sequence[tuple[str, str]]) -> None:
    _known_partitions.update(made)


def write_batch(conn: Connection, appended: Appending) -> list[tuple[str, str]]:
    """Insert the batch's entries, dedupe rows, tiles and new head (COPY for the
    bulk); returns the partitions it made (see :func:`ensure_partitions`). The
    entries are hashed as they are written: PostgreSQL stores the rows already
    sent while the next are hashed (a batch hashed first, then written, left
    each side idle half the time)."""
    if not len(appended):
        return []
    made = ensure_partitions(conn, [facts.occurred_at for facts in appended.batch])
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY audit_entries ({', '.join(ENTRY_COLUMNS)}) FROM STDIN") as copy:
            for entry in appended:
                copy.write_row(entry.row())
        with cur.copy("COPY audit_ingested (event_id, chain, seq) FROM STDIN") as copy:
            for entry in appended.entries:
                copy.write_row((entry.facts.event_id, entry.chain, entry.seq))
    if appended.tiles:
        conn.execute(
            insert(tiles),
            [{"chain": appended.head.chain, "width": w, "start": s, "hash": h} for w, s, h in appended.tiles],
        )
    conn.execute(
        insert(batches).values(
            chain=appended.head.chain, size=appended.head.size,
            chain_hash=appended.head.chain_hash, frontier=appended.head.frontier,
        )
    )
    return made


class StoredTree:
    """Perfect-subtree hashes of one chain, from tiles where they exist and
    from leaf hashes otherwise (a :class:`~confide_tlog.merkle.SubtreeSource`)."""

    def __init__(self, conn: Connection, chain: int) -> None:
        self.conn = conn
        self.chain = chain

    def _hash_up(self, level: list[bytes]) -> bytes:
        while len(level) > 1:
            level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        return level[0]

    def perfect(self, start: int, size: int) -> bytes:
        for width in sorted(TILE_WIDTHS, reverse=True):
            if size == width:
                found = self.conn.execute(
                    select(tiles.c.hash).where(
                        tiles.c.chain == self.chain, tiles.c.width == width, tiles.c.start == start
                    )
                ).scalar()
                if found is not None:
                    return bytes(found)
            if size > width:
                hashes = self.conn.execute(
                    select(tiles.c.hash)
                    .where(tiles.c.chain == self.chain, tiles.c.width == width,
                           tiles.c.start >= start, tiles.c.start < start + size)
                    .order_by(tiles.c.start)
                ).scalars().all()
                if len(hashes) == size // width:
                    return self._hash_up([bytes(h) for h in hashes])
        leaves = self.conn.execute(
            select(entries.c.leaf_hash)
            .where(entries.c.chain == self.chain, entries.c.seq >= start, entries.c.seq < start + size)
            .order_by(entries.c.seq)
        ).scalars().all()
        if len(leaves) != size:
            raise NotFound(f"chain {self.chain} has no leaves {start}..{start + size - 1}")
        return self._hash_up([bytes(h) for h in leaves])


def leaf(conn: Connection, chain: int, seq: int):
    return conn.execute(select(entries).where(entries.c.chain == chain, entries.c.seq == seq)).first()


def chains(conn: Connection) -> list[int]:
    return list(conn.execute(select(batches.c.chain).distinct().order_by(batches.c.chain)).scalars())


STREAM_ROWS = 2000  # rows fetched at a time: fewer round trips, a few MB held


def stream_entries(conn: Connection, chain: int) -> Iterator[StoredEntry]:
    """Every entry of ``chain`` in seq order, from a server-side cursor in binary,
    ``STREAM_ROWS`` at a time: constant memory, one query, rows decoded by
    psycopg's C loader a batch at a time (a binary ``COPY`` hands them over one
    by one, 1.7x slower here). Verification is bound by this loop (``make bench
    NAME=audit``). Close the iterator (``contextlib.closing``) before using
    ``conn`` again if it is left unfinished. Needs ``conn`` in a transaction
    (SQLAlchemy begins one on first use)."""
    columns = (*DOCUMENT_FIELDS, "leaf_hash", "chain_hash")
    # timestamps as PostgreSQL writes them in the canonical form: each row is the hashed document as it comes
    selected = [SQL_CANONICAL_TIMESTAMP.format(column=c) if c in TIMESTAMPS else c for c in columns]
    conn.execute(text("SELECT 1"))  # (the transaction the cursor lives in)
    raw = conn.connection.driver_connection
    with raw.cursor(name=f"verify_{int(chain)}_{uuid.uuid4().hex[:12]}", binary=True) as cur:
        cur.execute(f"SELECT {', '.join(selected)} FROM audit_entries WHERE chain = %s ORDER BY seq", (chain,))
        while rows := cur.fetchmany(STREAM_ROWS):
            for row in rows:
                document = dict(zip(DOCUMENT_FIELDS, row, strict=False))
                yield StoredEntry(row[1], row[2], document, row[-2], row[-1], document)


def stored_checkpoints(conn: Connection, chain: int) -> list[StoredCheckpoint]:
    return [
        StoredCheckpoint(r.size, bytes(r.root_hash), r.note)
        for r in conn.execute(
            select(checkpoints).where(checkpoints.c.chain == chain).order_by(checkpoints.c.size)
        )
    ]


def latest_checkpoint(conn: Connection, chain: int):
    return conn.execute(
        select(checkpoints).where(checkpoints.c.chain == chain).order_by(checkpoints.c.size.desc()).limit(1)
    ).first()


def checkpoint_at(conn: Connection, chain: int, size: int):
    return conn.execute(
        select(checkpoints).where(checkpoints.c.chain == chain, checkpoints.c.size == size)
    ).first()


def heads(conn: Connection) -> dict[int, int]:
    rows = conn.execute(select(batches.c.chain, func.max(batches.c.size)).group_by(batches.c.chain)).all()
    return {chain: size for chain, size in rows}


# --- witnesses' cosignatures -------------------------------------------------------------
def add_cosignature(conn: Connection, chain: int, size: int, witness: str, line: str, cosigned_at: datetime) -> None:
    conn.execute(insert(cosignatures).values(chain=chain, size=size, witness=witness, line=line,
                                             cosigned_at=cosigned_at))


def is_cosigned(conn: Connection, chain: int, size: int, witness: str) -> bool:
    c = cosignatures
    return conn.execute(select(c.c.size).where(c.c.chain == chain, c.c.size == size, c.c.witness == witness)
                        ).first() is not None


def last_cosigned_size(conn: Connection, chain: int, witness: str) -> int:
    """The largest size ``witness`` cosigned of ``chain`` for us (0: none yet)."""
    c = cosignatures
    return conn.execute(select(func.coalesce(func.max(c.c.size), 0))
                        .where(c.c.chain == chain, c.c.witness == witness)).scalar()


def cosignatures_at(conn: Connection, chain: int, size: int) -> list[str]:
    """The cosignature lines the checkpoint of ``chain`` at ``size`` carries."""
    c = cosignatures
    return list(conn.execute(select(c.c.line).where(c.c.chain == chain, c.c.size == size).order_by(c.c.witness))
                .scalars())


def latest_witnessed(conn: Connection, chain: int, quorum: int, witnesses: list[str]) -> tuple[int, str] | None:
    """The latest checkpoint of ``chain`` that at least ``quorum`` of ``witnesses``
    (the configured ones: a witness retired no longer counts) cosigned, with their
    cosignatures: (size, note). A checkpoint the witnesses have not seen yet
    anchors nothing a reader outside the clinic can trust."""
    c = cosignatures
    witnessed = select(func.count()).where(c.c.chain == checkpoints.c.chain, c.c.size == checkpoints.c.size,
                                           c.c.witness.in_(witnesses))
    latest = conn.execute(
        select(checkpoints).where(checkpoints.c.chain == chain, witnessed.scalar_subquery() >= quorum)
        .order_by(checkpoints.c.size.desc()).limit(1)
    ).first()
    if latest is None:
        return None
    return latest.size, latest.note + "".join(cosignatures_at(conn, chain, latest.size))


# --- hash tiles (C2SP tlog-tiles) ----------------------------------------------------------
TILE = 256


def tile(conn: Connection, chain: int, level: int, index: int, width: int) -> bytes:
    """The ``width`` hashes of tile ``index`` at ``level``: leaf hashes at level
    0, above it the roots of full tiles of the level below. Only what the
    chain's latest checkpoint covers is served (a tree nobody signed is nobody's)."""
    span = TILE ** level  # leaves under each hash of this level
    first = index * TILE * span
    latest = latest_checkpoint(conn, chain)
    if latest is None or first + width * span > latest.size:
        raise NotFound(f"tile {level}/{index} of chain {chain} is not within its latest checkpoint")
    if level == 0:
        hashes = conn.execute(select(entries.c.leaf_hash).where(
            entries.c.chain == chain, entries.c.seq >= first, entries.c.seq < first + width).order_by(entries.c.seq)
        ).scalars().all()
    elif span in TILE_WIDTHS:
        hashes = conn.execute(select(tiles.c.hash).where(
            tiles.c.chain == chain, tiles.c.width == span, tiles.c.start >= first,
            tiles.c.start < first + width * span).order_by(tiles.c.start)).scalars().all()
    else:
        tree = StoredTree(conn, chain)
        hashes = [tree.perfect(first + i * span, span) for i in range(width)]
    if len(hashes) != width:
        raise NotFound(f"tile {level}/{index} of chain {chain} is not (or no longer) held")
    return b"".join(bytes(h) for h in hashes)
