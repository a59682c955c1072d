"""The balance never drifts: random sequences of scheduling events (delivered
again and again), reversals, invoices, payments and refunds, applied by the
ledger to a real database, always leave the balance a model predicts, and the
books consistent with themselves."""

from datetime import date

import confide_contracts  # noqa: F401
import pytest
from billing_support import FEES, appointment
from confide_billing import ledger, store
from confide_billing import models as m
from confide_billing.domain.coding import code_session
from confide_contracts.errors import Conflict
from confide_events import Actor, registry
from confide_messaging import UnitOfWork
from confide_testing import random_id
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

ACTOR = Actor(id="biller-1", role="biller")
NO_SHOW_FEE = 5000

operations = st.lists(st.one_of(
    st.tuples(st.just("complete"), st.integers(0, 130), st.sampled_from(["individual_psychotherapy",
                                                                          "crisis_psychotherapy",
                                                                          "intake_assessment"]),
              st.integers(1, 3)),
    st.tuples(st.just("no_show"), st.integers(1, 2)),
    st.tuples(st.just("reverse"), st.integers(0, 10)),
    st.tuples(st.just("invoice")),
    st.tuples(st.just("pay"), st.integers(1, 40000)),
    st.tuples(st.just("refund"), st.integers(1, 40000)),
), max_size=25)


@pytest.fixture(scope="module")
def books(migrated_database):
    from pathlib import Path

    from confide_persistence import create_engine

    engine = create_engine(migrated_database(Path(__file__).parents[1] / "src" / "confide_billing" / "migrations",
                                             "billing_prop"))
    with engine.begin() as conn:
        conn.execute(insert(m.fee_schedules), [
            {"id": store.new_id(), "site_id": "north", "payer": "self_pay", "code": code, "amount_minor": amount,
             "currency": "USD", "effective_from": date(2026, 1, 1)} for code, amount in FEES.items()])
        conn.execute(insert(m.site_policies).values(site_id="north", currency="USD", no_show_fee_minor=NO_SHOW_FEE,
                                                    late_cancel_fee_minor=0))
    yield engine
    engine.dispose()


def expected_charge(minutes: int, kind: str) -> int:
    coding = code_session(kind, minutes, "in_person")
    return sum(FEES[line.code] * line.units for line in coding.lines)


def work(engine, step):
    with Session(engine) as session, session.begin():
        return step(UnitOfWork(session, "billing", registry))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_balance_never_drifts(books, ops):
    client = random_id("client")
    work(books, lambda uow: ledger.account(uow.session.connection(), client, "USD"))
    expected = 0
    for op in ops:
        if op[0] == "complete":
            _, minutes, kind, deliveries = op
            session = appointment(client_ids=[client], minutes=minutes, service_kind=kind)
            for _ in range(deliveries):  # the same event, again and again
                work(books, lambda uow, s=session: ledger.charge_session(uow, ACTOR, s, "USD"))
            expected += expected_charge(minutes, kind)
        elif op[0] == "no_show":
            session = appointment(status="no_show", client_ids=[client], minutes=None)
            for _ in range(op[1]):
                work(books, lambda uow, s=session: ledger.charge_fee(uow, ACTOR, s, "no_show"))
            expected += NO_SHOW_FEE
        elif op[0] == "reverse":
            with books.connect() as conn:
                rows = conn.execute(select(m.charges).where(m.charges.c.client_id == client, m.charges.c.kind !=
                                                            "reversal").order_by(m.charges.c.created_at)).all()
                done = set(conn.execute(select(m.charges.c.reverses_id).where(
                    m.charges.c.client_id == client, m.charges.c.reverses_id.isnot(None))).scalars())
            if op[1] < len(rows) and rows[op[1]].id not in done:
                work(books, lambda uow, r=rows[op[1]]: ledger.reverse(uow, ACTOR, r.id, "correction"))
                expected -= rows[op[1]].amount_minor
        elif op[0] == "invoice":
            work(books, lambda uow: ledger.issue_invoice(uow, ACTOR, client, date(2026, 1, 1), date(2026, 12, 31)))
        elif op[0] == "pay":
            work(books, lambda uow, a=op[1]: ledger.record_payment(uow, ACTOR, client, a, "USD", "card"))
            expected -= op[1]
        elif op[0] == "refund":
            if op[1] <= -expected:
                work(books, lambda uow, a=op[1]: ledger.refund(uow, ACTOR, client, a, "USD", "card"))
                expected += op[1]
            else:
                with pytest.raises(Conflict):  # more than the credit
                    work(books, lambda uow, a=op[1]: ledger.refund(uow, ACTOR, client, a, "USD", "card"))

    with books.connect() as conn:
        assert store.balance(conn, client) == expected
        c, i, a, p = m.charges, m.invoices, m.allocations, m.payments
        invoiced = conn.execute(select(func.coalesce(func.sum(c.c.amount_minor), 0)).where(
            c.c.client_id == client, c.c.invoice_id.isnot(None))).scalar()
        totals = conn.execute(select(func.coalesce(func.sum(i.c.total_minor), 0)).where(
            i.c.client_id == client)).scalar()
        assert invoiced == totals  # every invoice is the sum of its charges
        over = conn.execute(select(i.c.id).join(a, a.c.invoice_id == i.c.id).where(i.c.client_id == client)
                            .group_by(i.c.id, i.c.total_minor).having(func.sum(a.c.amount_minor) > i.c.total_minor)
                            ).all()
        assert over == []  # no invoice is paid beyond its total
        allocated = conn.execute(select(func.coalesce(func.sum(a.c.amount_minor), 0)).join(
            p, p.c.id == a.c.payment_id).where(p.c.client_id == client)).scalar()
        paid = conn.execute(select(func.coalesce(func.sum(p.c.amount_minor), 0)).where(
            p.c.client_id == client, p.c.kind == "payment")).scalar()
        assert allocated <= paid
