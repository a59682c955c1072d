"""An audit entry, its canonical form and its place in the hash chain."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from confide_contracts.audit_export import canonical as canonical_form
from confide_contracts.audit_export import canonical_document, timestamp
from confide_tlog.merkle import leaf_hash

GENESIS = b"\x00" * 32


@dataclass(frozen=True)
class AccessFacts:
    """What one access event says, as the audit trail keeps it."""

    event_id: str
    event_type: str
    producer: str
    occurred_at: datetime
    actor_id: str
    actor_role: str
    on_behalf_of: str | None
    site_id: str | None
    action: str
    outcome: str
    resource_type: str
    resource_id: str | None
    client_id: str | None
    purpose: str
    reason: str | None
    break_glass: bool
    break_glass_reason: str | None
    source_address: str | None
    user_agent: str | None
    recipient: str | None
    trace_id: str | None

    @classmethod
    def from_event(cls, event) -> AccessFacts:
        p = event.payload
        trace_id = event.traceparent.split("-")[1] if event.traceparent else None
        return cls(
            event_id=str(event.id),
            event_type=event.type,
            producer=event.producer,
            occurred_at=event.occurred_at,
            actor_id=event.actor.id,
            actor_role=event.actor.role,
            on_behalf_of=event.actor.on_behalf_of,
            site_id=event.site_id,
            action=p["action"],
            outcome=p["outcome"],
            resource_type=p["resource_type"],
            resource_id=p.get("resource_id"),
            client_id=p.get("client_id"),
            purpose=p["purpose"],
            reason=p.get("reason"),
            break_glass=bool(p.get("break_glass")),
            break_glass_reason=p.get("break_glass_reason"),
            source_address=p.get("source_address"),
            user_agent=p.get("user_agent"),
            recipient=p.get("recipient"),
            trace_id=trace_id,
        )


FACT_FIELDS = tuple(f.name for f in fields(AccessFacts))


@dataclass(frozen=True)
class Entry:
    """One entry of a chain: the facts, where it sits, and its hashes."""

    chain: int
    seq: int
    recorded_at: datetime
    facts: AccessFacts
    leaf_hash: bytes
    chain_hash: bytes

    def row(self) -> tuple:
        """The entry as a row of ``confide_audit.store.ENTRY_COLUMNS`` (the facts' ``__dict__``
        holds them in FACT_FIELDS order; not dataclasses.asdict: it deep-copies every value)."""
        return (self.chain, self.seq, self.recorded_at, *self.facts.__dict__.values(), self.leaf_hash,
                self.chain_hash)


def canonical(chain: int, seq: int, recorded_at: datetime | str, facts: AccessFacts | Mapping[str, Any]) -> bytes:
    """The hashed bytes of an entry: the trail's contract (``confide_contracts.audit_export``)."""
    return canonical_form(chain, seq, recorded_at, facts if type(facts) is dict else facts.__dict__)


def chain_link(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(previous + leaf).digest()


def make_entry(chain: int, seq: int, recorded_at: datetime, facts: AccessFacts, previous: bytes,
               stamp: str | None = None) -> Entry:
    """``stamp``: ``recorded_at`` in the canonical form, when a batch that shares it has it already.
    The document is :func:`canonical`'s, made in one step: ``facts.__dict__`` holds exactly
    FACT_FIELDS (the hot loop of ingest: ``make bench NAME=audit``)."""
    document = {**facts.__dict__, "occurred_at": timestamp(facts.occurred_at), "chain": chain, "seq": seq,
                "recorded_at": stamp or timestamp(recorded_at)}
    leaf = leaf_hash(canonical_document(document))
    return Entry(chain, seq, recorded_at, facts, leaf, chain_link(previous, leaf))


def facts_from_row(row: Any) -> AccessFacts:
    getter = row._mapping if hasattr(row, "_mapping") else row
    return AccessFacts(**{name: getter[name] for name in FACT_FIELDS})
