"""All of billing's SQL: accounts, price lists, charges, invoices, payments and
their allocations, claims, and the projections of credentialing's clinicians and
supervisions. Every function works in the caller's connection (its unit of
work's transaction)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import uuid_utils.compat as uuid_compat
from confide_persistence import plain
from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from confide_billing import models as m
from confide_billing.domain.money import Tier


def new_id():
    return uuid_compat.uuid7()


def now() -> datetime:
    return datetime.now(UTC)


def ping(conn: Connection) -> None:
    conn.execute(select(1))


def upsert(conn: Connection, table, key: str, values: dict[str, Any]) -> None:
    statement = pg_insert(table).values(**values)
    conn.execute(statement.on_conflict_do_update(index_elements=[key],
                                                 set_={k: v for k, v in values.items() if k != key}))


# --- clients, as records registers them ---------------------------------------------------
def record_client(conn: Connection, client_id: str, home_site_id: str) -> None:
    conn.execute(pg_insert(m.clients).values(id=client_id, home_site_id=home_site_id).on_conflict_do_nothing())


def home_site(conn: Connection, client_id: str) -> str | None:
    return conn.execute(select(m.clients.c.home_site_id).where(m.clients.c.id == client_id)).scalar()


# --- price lists ----------------------------------------------------------------------
def add_fee(conn: Connection, fee_id, data: dict[str, Any]) -> None:
    conn.execute(insert(m.fee_schedules).values(id=fee_id, **data))


def fee_row(conn: Connection, fee_id, lock: bool = False):
    query = select(m.fee_schedules).where(m.fee_schedules.c.id == fee_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def change_fee(conn: Connection, fee_id, **values):
    f = m.fee_schedules
    return conn.execute(update(f).where(f.c.id == fee_id).values(**values).returning(f)).first()


def delete_fee(conn: Connection, fee_id) -> None:
    conn.execute(delete(m.fee_schedules).where(m.fee_schedules.c.id == fee_id))


def replace_scale(conn: Connection, site_id: str, currency: str, tiers: list[dict[str, Any]]) -> None:
    s = m.sliding_scale
    conn.execute(delete(s).where(s.c.site_id == site_id, s.c.currency == currency))
    conn.execute(insert(s), [{"id": new_id(), "site_id": site_id, "currency": currency, **t} for t in tiers])


def fee(conn: Connection, site_id: str, payer: str, code: str, on: date) -> Any:
    f = m.fee_schedules
    return conn.execute(select(f).where(
        f.c.site_id == site_id, f.c.payer == payer, f.c.code == code, f.c.effective_from <= on,
        or_(f.c.effective_until.is_(None), f.c.effective_until >= on)).order_by(f.c.effective_from.desc())
        .limit(1)).first()


def tiers(conn: Connection, site_id: str, currency: str) -> list[Tier]:
    s = m.sliding_scale
    return [Tier(r.name, r.max_income_minor, r.percent) for r in conn.execute(
        select(s).where(s.c.site_id == site_id, s.c.currency == currency))]


def site_policy(conn: Connection, site_id: str) -> Any:
    return conn.execute(select(m.site_policies).where(m.site_policies.c.site_id == site_id)).first()


def billing_provider(conn: Connection, site_id: str) -> Any:
    return conn.execute(select(m.billing_providers).where(m.billing_providers.c.site_id == site_id)).first()


# --- accounts -------------------------------------------------------------------------
def account(conn: Connection, client_id: str, lock: bool = False) -> Any:
    query = select(m.accounts).where(m.accounts.c.client_id == client_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def ensure_account(conn: Connection, client_id: str, payer: str, currency: str) -> Any:
    conn.execute(pg_insert(m.accounts).values(client_id=client_id, payer=payer, currency=currency)
                 .on_conflict_do_nothing())
    return account(conn, client_id)


def statement_rows(conn: Connection, client_id: str) -> dict[str, list[dict[str, Any]]]:
    c, i, p = m.charges, m.invoices, m.payments
    return {
        "charges": [plain(r) for r in conn.execute(select(c).where(c.c.client_id == client_id)
                                                   .order_by(c.c.service_date, c.c.created_at))],
        "invoices": [plain(r) for r in conn.execute(select(i).where(i.c.client_id == client_id)
                                                    .order_by(i.c.issued_at))],
        "payments": [plain(r) for r in conn.execute(select(p).where(p.c.client_id == client_id)
                                                    .order_by(p.c.received_at))],
        "unbilled": [plain(r) for r in conn.execute(select(m.unbilled).where(m.unbilled.c.client_id == client_id))],
    }


def balance(conn: Connection, client_id: str) -> int:
    """What the client owes (negative: a credit): charges less payments plus refunds."""
    charged = conn.execute(select(func.coalesce(func.sum(m.charges.c.amount_minor), 0))
                           .where(m.charges.c.client_id == client_id)).scalar()
    p = m.payments
    paid = conn.execute(select(func.coalesce(func.sum(p.c.amount_minor), 0))
                        .where(p.c.client_id == client_id, p.c.kind == "payment")).scalar()
    refunded = conn.execute(select(func.coalesce(func.sum(p.c.amount_minor), 0))
                            .where(p.c.client_id == client_id, p.c.kind == "refund")).scalar()
    return int(charged) - int(paid) + int(refunded)


# --- charges --------------------------------------------------------------------------
def insert_charge_once(conn: Connection, values: dict[str, Any]) -> uuid.UUID | None:
    """Insert once: a second charge for the same appointment, client, kind and
    code is ignored (``None``)."""
    cid = new_id()
    inserted = conn.execute(pg_insert(m.charges).values(id=cid, **values).on_conflict_do_nothing(
        index_elements=["appointment_id", "client_id", "kind", "code"],
        # a literal predicate: a bound parameter would stop PostgreSQL from matching the
        # partial index once psycopg prepares the statement (after 5 runs)
        index_where=text("kind <> 'reversal'")).returning(m.charges.c.id)).first()
    return None if inserted is None else cid


def insert_charge(conn: Connection, charge_id, values: dict[str, Any]) -> None:
    conn.execute(insert(m.charges).values(id=charge_id, **values))


def charge(conn: Connection, charge_id, lock: bool = False) -> Any:
    query = select(m.charges).where(m.charges.c.id == charge_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def is_reversed(conn: Connection, charge_id) -> bool:
    return conn.execute(select(m.charges.c.id).where(m.charges.c.reverses_id == charge_id)).first() is not None


def mark_unbilled(conn: Connection, appointment_id: str, client_id: str, reason: str) -> None:
    conn.execute(pg_insert(m.unbilled).values(appointment_id=appointment_id, client_id=client_id, reason=reason)
                 .on_conflict_do_nothing())


def billed_lines(conn: Connection, client_id: str, appointment_id: str | None = None,
                 period: tuple[date, date] | None = None) -> list:
    """Service charges not reversed."""
    c = m.charges
    reversed_ids = select(c.c.reverses_id).where(c.c.reverses_id.isnot(None))
    query = select(c).where(c.c.client_id == client_id, c.c.kind == "service", c.c.id.notin_(reversed_ids))
    if appointment_id:
        query = query.where(c.c.appointment_id == appointment_id)
    if period:
        query = query.where(c.c.service_date >= period[0], c.c.service_date <= period[1])
    return conn.execute(query.order_by(c.c.service_date, c.c.created_at)).all()


# --- invoices and payments ----------------------------------------------------------------
def uninvoiced_charges(conn: Connection, client_id: str, start: date, end: date) -> list:
    c = m.charges
    return conn.execute(select(c).where(c.c.client_id == client_id, c.c.invoice_id.is_(None),
                                        c.c.service_date >= start, c.c.service_date <= end).with_for_update()).all()


def add_invoice(conn: Connection, invoice_id, client_id: str, start: date, end: date, total: int, currency: str,
                charge_ids: list) -> None:
    conn.execute(insert(m.invoices).values(id=invoice_id, client_id=client_id, period_start=start, period_end=end,
                                           total_minor=total, currency=currency, issued_at=now()))
    conn.execute(update(m.charges).where(m.charges.c.id.in_(charge_ids)).values(invoice_id=invoice_id))


def open_invoices(conn: Connection, client_id: str) -> list[tuple[uuid.UUID, int, str]]:
    """(invoice, what is still owed, currency) for each invoice not paid in full, oldest first."""
    i, a = m.invoices, m.allocations
    paid = select(a.c.invoice_id, func.sum(a.c.amount_minor).label("paid")).group_by(a.c.invoice_id).subquery()
    rows = conn.execute(select(i.c.id, i.c.total_minor, i.c.currency, func.coalesce(paid.c.paid, 0).label("paid"))
                        .outerjoin(paid, paid.c.invoice_id == i.c.id).where(i.c.client_id == client_id)
                        .order_by(i.c.issued_at, i.c.id)).all()
    # (PostgreSQL's SUM of bigint is numeric: back to whole cents)
    return [(r.id, int(r.total_minor - r.paid), r.currency) for r in rows if r.total_minor - r.paid > 0]


def add_payment(conn: Connection, payment_id, client_id: str, kind: str, amount_minor: int, currency: str,
                method: str, reference: str | None = None) -> None:
    conn.execute(insert(m.payments).values(id=payment_id, client_id=client_id, kind=kind, amount_minor=amount_minor,
                                           currency=currency, method=method, reference=reference, received_at=now()))


def allocate_payment(conn: Connection, payment_id, split: list[tuple[Any, int]]) -> None:
    if split:
        conn.execute(insert(m.allocations), [{"payment_id": payment_id, "invoice_id": iid, "amount_minor": amount}
                                             for iid, amount in split])


def payments_of(conn: Connection, client_id: str, kind: str) -> list:
    p = m.payments
    return conn.execute(select(p).where(p.c.client_id == client_id, p.c.kind == kind)).all()


# --- claims -----------------------------------------------------------------------------
def add_claim(conn: Connection, claim_id, values: dict[str, Any]) -> bool:
    """False when the session already has a claim for this client."""
    try:
        with conn.begin_nested():
            conn.execute(insert(m.claims).values(id=claim_id, **values))
    except IntegrityError as exc:
        if "uq_claims_appointment_client" in str(exc):
            return False
        raise
    return True


def claim(conn: Connection, claim_id, lock: bool = False) -> Any:
    query = select(m.claims).where(m.claims.c.id == claim_id)
    return conn.execute(query.with_for_update() if lock else query).first()


def change_claim(conn: Connection, claim_id, **values) -> None:
    conn.execute(update(m.claims).where(m.claims.c.id == claim_id).values(updated_at=now(), **values))


# --- projections of credentialing -----------------------------------------------------------
def upsert_clinician(conn: Connection, clinician_id: str, given_name: str, family_name: str,
                     npi: str | None) -> None:
    upsert(conn, m.clinicians, "id", {"id": clinician_id, "given_name": given_name, "family_name": family_name,
                                      "npi": npi})


def person(conn: Connection, clinician_id: str | None) -> dict | None:
    """A clinician as a claim names them (what the projection knows)."""
    if clinician_id is None:
        return None
    row = conn.execute(select(m.clinicians).where(m.clinicians.c.id == clinician_id)).first()
    if row is None:
        return {"id": clinician_id, "name": None, "npi": None}
    return {"id": row.id, "name": f"{row.family_name}, {row.given_name}", "npi": row.npi}


def supervisor_on(conn: Connection, clinician_id: str, on: date) -> str | None:
    s = m.supervisions
    return conn.execute(select(s.c.supervisor_id).where(
        s.c.supervisee_id == clinician_id, s.c.starts_on <= on, or_(s.c.ends_on.is_(None), s.c.ends_on >= on))
        .order_by(s.c.starts_on.desc()).limit(1)).scalar()
