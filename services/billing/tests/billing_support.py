"""Helpers for the billing tests: a priced site, and scheduling's events."""

from __future__ import annotations

import confide_contracts  # noqa: F401
from confide_events import Actor, registry
from confide_messaging import UnitOfWork
from confide_testing import caller, random_id, wait_for_handled
from sqlalchemy import text
from sqlalchemy.orm import Session

SCHEDULER = Actor(id="desk-1", role="front_desk")
ADMIN = caller("admin", ("north",), purpose="operations")
BILLER = caller("biller", ("north",), purpose="payment")
FEES = {"90791": 20000, "90832": 9000, "90834": 15000, "90837": 18000, "90847": 16000, "90853": 6000,
        "90785": 2000, "90839": 22000, "90840": 10000}


def price_site(rpc, site="north", payer="self_pay", fees=FEES):
    for code, amount in fees.items():
        rpc.set_fee(ADMIN, {"site_id": site, "payer": payer, "code": code, "amount_minor": amount,
                            "currency": "USD", "effective_from": "2026-01-01"})


def appointment(status="completed", **overrides) -> dict:
    data = {"appointment_id": random_id("appt"), "site_id": "north", "clinician_id": "dr-1",
            "client_ids": [random_id("client")], "kind": "individual", "service_kind": "individual_psychotherapy",
            "modality": "in_person", "client_jurisdiction": "US-NY", "starts_at": "2026-11-02T15:00:00+00:00",
            "ends_at": "2026-11-02T15:50:00+00:00", "planned_minutes": 50, "status": status, "minutes": 45}
    data.update(overrides)
    return data


def deliver(engine, event_type: str, payload: dict, wait_for: str, producer: str = "scheduling"):
    """Publish an event as its producer would (outbox, relay, broker) and wait
    until ``wait_for`` (``billing.<handler>``) has handled it. The clients of a
    scheduling event are registered first, at its site, as records would have."""
    for client_id in payload.get("client_ids", []) if producer == "scheduling" else []:
        register(engine, client_id, payload["site_id"])
    with Session(engine) as session, session.begin():
        event = UnitOfWork(session, producer, registry).emit(event_type, payload, actor=SCHEDULER,
                                                             site_id=payload.get("site_id"))
    wait_for_handled(engine, wait_for, event.id)
    return event


def register(engine, client_id: str, site: str = "north") -> str:
    """The client as records announces a registration: billing learns their home site."""
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM clients WHERE id = :c"), {"c": client_id}).first():
            return client_id
    deliver(engine, "records.client.registered", {"client_id": client_id, "home_site_id": site, "minor": False,
                                                  "display_name": "Robin Hale"},
            "billing.on_client", producer="records")
    return client_id


def count(engine, table: str, client_id: str | None = None) -> int:
    with engine.connect() as conn:
        if client_id:
            return conn.execute(text(f"SELECT count(*) FROM {table} WHERE client_id = :c"), {"c": client_id}).scalar()
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
