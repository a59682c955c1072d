"""Reading the trail: filtered, ordered, cursor-paginated queries."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from confide_access import InvalidRequest
from confide_tlog.merkle import inclusion_proof
from sqlalchemy import and_, extract, func, or_, select, tuple_
from sqlalchemy.engine import Connection

from confide_audit import store
from confide_audit.domain.entry import FACT_FIELDS
from confide_audit.domain.retention import RETENTION
from confide_audit.models import entries


def encode_cursor(row) -> str:
    raw = json.dumps([row.occurred_at.isoformat(), row.chain, row.seq]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int, int]:
    try:
        occurred, chain, seq = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(occurred), int(chain), int(seq)
    except (ValueError, TypeError) as exc:
        raise InvalidRequest({"cursor": [f"not a cursor this service issued ({exc})"]}) from None


def entry_view(row) -> dict[str, Any]:
    view = {name: getattr(row, name) for name in FACT_FIELDS}
    view["occurred_at"] = row.occurred_at.astimezone(UTC).isoformat()
    view.update(chain=row.chain, seq=row.seq, recorded_at=row.recorded_at.astimezone(UTC).isoformat(),
                leaf_hash=bytes(row.leaf_hash).hex())
    return view


EQUALITY = ("client_id", "producer", "actor_id", "actor_role", "resource_type", "resource_id", "site_id", "break_glass")
ENUMS = ("action", "outcome", "purpose")


def run_query(conn: Connection, filters: dict[str, Any]) -> dict[str, Any]:
    """``filters`` as loaded by :class:`~confide_contracts.rpc.audit.QuerySchema`."""
    conditions = []
    for name in EQUALITY:
        if filters.get(name) is not None:
            conditions.append(entries.c[name] == filters[name])
    for name in ENUMS:
        if filters.get(name) is not None:
            conditions.append(entries.c[name] == str(filters[name]))
    if filters.get("since"):
        conditions.append(entries.c.occurred_at >= filters["since"])
    if filters.get("until"):
        conditions.append(entries.c.occurred_at < filters["until"])
    key = tuple_(entries.c.occurred_at, entries.c.chain, entries.c.seq)
    descending = filters.get("order") == "desc"
    if filters.get("cursor"):
        position = decode_cursor(filters["cursor"])
        conditions.append(key < position if descending else key > position)
    order = [c.desc() if descending else c.asc() for c in (entries.c.occurred_at, entries.c.chain, entries.c.seq)]
    limit = filters.get("limit", 100)
    rows = conn.execute(
        select(entries).where(and_(True, *conditions)).order_by(*order).limit(limit + 1)
    ).all()
    page = rows[:limit]
    return {
        "entries": [entry_view(r) for r in page],
        "next_cursor": encode_cursor(page[-1]) if len(rows) > limit else None,
    }


def disclosures(conn: Connection, client_id: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """Accounting of disclosures (45 CFR 164.528): every release of this client's
    information to an outside party over the last six years."""
    since = (now or datetime.now(UTC)) - RETENTION
    rows = conn.execute(
        select(entries)
        .where(entries.c.client_id == client_id, entries.c.occurred_at >= since,
               or_(entries.c.action == "disclose", entries.c.purpose == "disclosure"),
               entries.c.outcome == "allowed")
        .order_by(entries.c.occurred_at, entries.c.chain, entries.c.seq)
    ).all()
    return [
        {"occurred_at": r.occurred_at.astimezone(UTC).isoformat(), "recipient": r.recipient,
         "purpose": r.purpose, "resource_type": r.resource_type, "resource_id": r.resource_id,
         "disclosed_by": r.actor_id, "site_id": r.site_id, "reason": r.reason}
        for r in rows
    ]


CLIENT_VISIBLE = ("occurred_at", "actor_id", "actor_role", "action", "outcome", "resource_type",
                  "purpose", "site_id", "break_glass", "recipient")


def client_view(view: dict[str, Any]) -> dict[str, Any]:
    """What a client sees of an access to their own record: who, when, why."""
    return {k: view[k] for k in CLIENT_VISIBLE}


def denied_by_actor(conn: Connection, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
    conditions = [entries.c.outcome == "denied"]
    if since:
        conditions.append(entries.c.occurred_at >= since)
    if until:
        conditions.append(entries.c.occurred_at < until)
    rows = conn.execute(
        select(entries.c.actor_id, entries.c.actor_role, func.count().label("denied"),
               func.max(entries.c.occurred_at).label("last"))
        .where(*conditions)
        .group_by(entries.c.actor_id, entries.c.actor_role)
        .order_by(func.count().desc(), entries.c.actor_id)
    ).all()
    return [{"actor_id": r.actor_id, "actor_role": r.actor_role, "denied": r.denied,
             "last": r.last.astimezone(UTC).isoformat()} for r in rows]


CLINICAL_ROLES = ("clinician", "supervisor")


def outside_care_team(conn: Connection, since: datetime | None, until: datetime | None,
                      limit: int) -> list[dict[str, Any]]:
    """Clinical staff's allowed access to clients whose care team they are not on:
    through supervision, break-the-glass or anything else the producing service
    recorded as the basis (records writes ``basis: why`` as the reason of an
    allowed access; ``care_team`` and a clinician's own psychotherapy notes are
    inside)."""
    conditions = [entries.c.outcome == "allowed", entries.c.actor_role.in_(CLINICAL_ROLES),
                  entries.c.client_id.isnot(None), entries.c.producer == "records",
                  or_(entries.c.reason.is_(None),
                      and_(~entries.c.reason.startswith("care_team:"), ~entries.c.reason.startswith("author:")))]
    if since:
        conditions.append(entries.c.occurred_at >= since)
    if until:
        conditions.append(entries.c.occurred_at < until)
    rows = conn.execute(select(entries).where(*conditions).order_by(entries.c.occurred_at.desc()).limit(limit)).all()
    return [{**entry_view(r), "basis": (r.reason or "unrecorded").split(":", 1)[0]} for r in rows]


def after_hours(conn: Connection, time_zone: str, opens: int, closes: int, site_id: str | None,
                limit: int) -> list[dict[str, Any]]:
    local = func.timezone(time_zone, entries.c.occurred_at)
    hour = extract("hour", local)
    conditions = [or_(hour < opens, hour >= closes, extract("isodow", local) >= 6)]
    if site_id:
        conditions.append(entries.c.site_id == site_id)
    rows = conn.execute(
        select(entries).where(*conditions).order_by(entries.c.occurred_at.desc()).limit(limit)
    ).all()
    return [entry_view(r) for r in rows]


def break_glass_unreviewed(conn: Connection, older_than_hours: int, limit: int) -> list[dict[str, Any]]:
    """Grants opened (records' allowed, break-the-glass access to a
    ``BreakGlassGrant``) with no allowed update of that grant since: the review."""
    opened = entries.alias("opened")
    review = entries.alias("review")
    used = entries.alias("used")
    reviewed = (select(review.c.seq).where(
        review.c.resource_type == "BreakGlassGrant", review.c.resource_id == opened.c.resource_id,
        review.c.action == "update", review.c.outcome == "allowed").exists())
    uses = (select(func.count()).where(
        used.c.break_glass.is_(True), used.c.actor_id == opened.c.actor_id, used.c.client_id == opened.c.client_id,
        used.c.occurred_at >= opened.c.occurred_at, used.c.resource_type != "BreakGlassGrant")
        .scalar_subquery())
    before = datetime.now(UTC) - timedelta(hours=older_than_hours)
    rows = conn.execute(
        select(opened, uses.label("reads"))
        .where(opened.c.resource_type == "BreakGlassGrant", opened.c.action == "read",
               opened.c.outcome == "allowed", opened.c.break_glass.is_(True), opened.c.producer == "records",
               opened.c.occurred_at <= before, ~reviewed)
        .order_by(opened.c.occurred_at).limit(limit)
    ).all()
    return [{"grant_id": r.resource_id, "client_id": r.client_id, "actor_id": r.actor_id, "actor_role": r.actor_role,
             "opened_at": r.occurred_at.astimezone(UTC).isoformat(), "reason": r.break_glass_reason,
             "site_id": r.site_id, "reads_under_grant": r.reads} for r in rows]


def with_proofs(conn: Connection, views: list[dict[str, Any]], quorum: int,
                witnesses: list[str]) -> list[dict[str, Any]]:
    """Each entry (as its client sees it) with its RFC 6962 inclusion proof in its
    chain's latest checkpoint that ``quorum`` of ``witnesses`` cosigned, the checkpoint
    carrying their cosignatures: the client checks that the entry is in the tree
    the log signed and the witnesses saw. An entry newer than that checkpoint
    waits for the next (its ``proof`` is null)."""
    latest: dict[int, tuple[int, str] | None] = {}
    shown = []
    for view in views:
        chain, seq = view["chain"], view["seq"]
        if chain not in latest:
            latest[chain] = store.latest_witnessed(conn, chain, quorum, witnesses)
        found = latest[chain]
        proof = None
        if found is not None and seq < found[0]:
            hashes = inclusion_proof(store.StoredTree(conn, chain), seq, found[0])
            proof = {"chain": chain, "seq": seq, "tree_size": found[0],
                     "leaf_hash": base64.b64encode(bytes.fromhex(view["leaf_hash"])).decode(),
                     "hashes": [base64.b64encode(h).decode() for h in hashes], "checkpoint": found[1]}
        shown.append({**client_view(view), "proof": proof})
    return shown
