"""Helpers for the audit service's tests."""

from pathlib import Path

import confide_access  # noqa: F401 - registers the access event schema
from confide_access import Action, CallerSchema, record_access
from confide_events import registry
from confide_messaging import OutboxRelay, UnitOfWork
from confide_testing import caller
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).parents[1] / "src" / "confide_audit" / "migrations"


class Producer:
    """A service's side of the story: access events written to its own outbox in
    its own database, published by the real relay."""

    def __init__(self, engine, amqp_uri: str, name: str = "records") -> None:
        self.engine = engine
        self.name = name
        self.relay = OutboxRelay(engine, amqp_uri)

    def access(self, n: int = 1, *, sites=("site-a", "site-b", "site-c"), flush: bool = True, **facts) -> list:
        events = []
        with Session(self.engine) as session, session.begin():
            uow = UnitOfWork(session, self.name, registry)
            for i in range(n):
                who = CallerSchema().load({
                    "user_id": facts.get("actor_id", f"dr-{i % 5}"), "role": facts.get("role", "clinician"),
                    "sites": list(sites), "purpose": facts.get("purpose", "treatment"),
                    "source_address": "10.1.2.3", "user_agent": "pytest",
                    "break_glass_reason": facts.get("break_glass_reason"),
                })
                events.append(record_access(
                    uow, who, action=facts.get("action", Action.READ), resource_type=facts.get("resource_type", "Note"),
                    resource_id=f"note-{i}", client_id=facts.get("client_id", f"client-{i % 7}"),
                    site_id=sites[i % len(sites)], outcome=facts.get("outcome", "allowed"),
                    reason=facts.get("reason"), recipient=facts.get("recipient"),
                ))
        if flush:
            self.relay.drain()
        return events


    def link(self, user_id: str, client_id: str, linked_as: str = "client") -> None:
        """A login linked to a client's record, as records announces it."""
        import confide_contracts  # noqa: F401 - registers records' event schemas
        from confide_events import Actor

        with Session(self.engine) as session, session.begin():
            UnitOfWork(session, self.name, registry).emit("records.login.linked", {
                "client_id": client_id, "user_id": user_id, "linked_as": linked_as, "guardian_id": None},
                actor=Actor(id=user_id, role="client"))
        self.relay.drain()


def officer(**overrides):
    """A compliance officer with a fresh user id."""
    return caller(role="compliance_officer", sites=(), purpose="operations", **overrides)
