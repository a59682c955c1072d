"""Consumer-side projections of the contract's events, defined once for every
service that keeps one (one table shape, one upsert), so the copies cannot
drift apart.

Supervision (``credentialing.supervision.started|ended``; credentialing is the
authority): records lets a supervisor read their supervisees' clients,
scheduling books an associate under a supervisor's licence, billing names the
supervising provider on a claim. All three need who, in which jurisdiction,
from when, until when.

Linked logins (``records.login.linked``; records is the authority): whose
record a person's own login is, so scheduling and billing answer a client's
"my appointments" and "my statement" for that record alone.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Column, Date, DateTime, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from confide_contracts.credentialing import SUPERVISION_ENDED, SUPERVISION_STARTED
from confide_contracts.records import LOGIN_LINKED

SUPERVISION_EVENTS = (SUPERVISION_STARTED, SUPERVISION_ENDED)


def supervisions_table(metadata: MetaData, person_id_type=None) -> Table:
    """The ``supervisions`` projection in ``metadata`` (people's ids as
    ``person_id_type``, the service's own id column type)."""
    person = person_id_type if person_id_type is not None else String(200)
    return Table(
        "supervisions",
        metadata,
        Column("id", String(64), primary_key=True),
        Column("supervisor_id", person, nullable=False, index=True),
        Column("supervisee_id", person, nullable=False, index=True),
        Column("jurisdiction", String(8), nullable=False),
        Column("starts_on", Date, nullable=False),
        Column("ends_on", Date),
    )


def supervision_values(payload: dict[str, Any]) -> dict[str, Any]:
    """The row an event's payload describes."""
    return {
        "id": payload["supervision_id"],
        "supervisor_id": payload["supervisor_id"],
        "supervisee_id": payload["supervisee_id"],
        "jurisdiction": payload["jurisdiction"],
        "starts_on": date.fromisoformat(payload["starts_on"]),
        "ends_on": date.fromisoformat(payload["ends_on"]) if payload.get("ends_on") else None,
    }


def apply_supervision(connection, table: Table, payload: dict[str, Any]) -> None:
    """Upsert one supervision event. Events may arrive in any order (redelivery,
    retries): a supervision once ended stays ended when a late ``started``
    arrives, and every other fact is the latest event's."""
    values = supervision_values(payload)
    statement = pg_insert(table).values(**values)
    changes = {k: statement.excluded[k] for k in values if k not in ("id", "ends_on")}
    changes["ends_on"] = func.coalesce(statement.excluded.ends_on, table.c.ends_on)
    connection.execute(statement.on_conflict_do_update(index_elements=["id"], set_=changes))


LOGIN_EVENTS = (LOGIN_LINKED,)


def linked_logins_table(metadata: MetaData, name: str = "linked_logins") -> Table:
    return Table(
        name,
        metadata,
        Column("user_id", String(200), primary_key=True),
        Column("client_id", String(200), primary_key=True),
        Column("linked_as", String(16), primary_key=True),
        Column("linked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def apply_login_link(connection, table: Table, payload: dict[str, Any]) -> None:
    """Record one link (a redelivered event changes nothing)."""
    connection.execute(pg_insert(table).values(user_id=payload["user_id"], client_id=payload["client_id"],
                                               linked_as=payload["linked_as"]).on_conflict_do_nothing())


def own_record(connection, table: Table, user_id: str) -> str | None:
    """The client record ``user_id`` is the client of (their own login; a guardian's is not), the latest linked."""
    return connection.execute(select(table.c.client_id).where(table.c.user_id == user_id, table.c.linked_as == "client")
                              .order_by(table.c.linked_at.desc()).limit(1)).scalar()
