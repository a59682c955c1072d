"""The books listed for billers: invoices, payments, claims, accounts and fees,
filtered, paged by key, kept to the caller's sites, each entry that names a
client recorded as an access to that client."""

from __future__ import annotations

import pytest
from billing_support import ADMIN, BILLER, appointment, deliver, price_site, register
from confide_testing import caller, random_id
from nameko.exceptions import RemoteError
from sqlalchemy import text


def accesses(engine, mark: int) -> list[dict]:
    with engine.connect() as conn:
        return [m["payload"] for m in conn.execute(text(
            "SELECT message FROM outbox WHERE seq > :m AND type = 'billing.access.recorded' ORDER BY seq"),
            {"m": mark}).scalars()]


def mark(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT coalesce(max(seq), 0) FROM outbox")).scalar()


def test_invoices_payments_and_accounts_listed_and_each_read_recorded(rpc, billing_db):
    price_site(rpc)
    clients = []
    for _ in range(3):
        session = appointment()
        deliver(billing_db, "scheduling.appointment.completed", session, "billing.on_completed")
        client = session["client_ids"][0]
        rpc.open_account(BILLER, {"client_id": client, "payer": "self_pay", "currency": "USD"})
        rpc.issue_invoice(BILLER, {"client_id": client, "period_start": "2026-11-01", "period_end": "2026-11-30"})
        rpc.record_payment(BILLER, {"client_id": client, "amount_minor": 5000, "currency": "USD", "method": "card"})
        clients.append(client)
    elsewhere = register(billing_db, random_id("client"), site="south")
    rpc.open_account(caller("biller", ("south",)), {"client_id": elsewhere, "payer": "self_pay", "currency": "USD"})

    before = mark(billing_db)
    first = rpc.list_invoices(BILLER, {"limit": 2})
    rest = rpc.list_invoices(BILLER, {"limit": 2, "cursor": first["next_cursor"]})
    invoices = first["items"] + rest["items"]
    assert [i["client_id"] for i in invoices] == clients and rest["next_cursor"] is None
    assert {(i["total_minor"], i["paid_minor"]) for i in invoices} == {(15000, 5000)}
    assert all(type(i["paid_minor"]) is int for i in invoices)  # whole minor units, as JSON has them
    assert [(a["client_id"], a["resource_type"], a["action"]) for a in accesses(billing_db, before)] == [
        (c, "Invoice", "read") for c in clients]
    assert [p["client_id"] for p in rpc.list_payments(BILLER, {"client_id": clients[1]})["items"]] == [clients[1]]
    listed = [a["client_id"] for a in rpc.list_accounts(BILLER, {"limit": 200})["items"]]
    assert set(clients) <= set(listed) and elsewhere not in listed  # another site's client
    # a client of another site, named: the same answer as no client at all
    with pytest.raises(RemoteError, match="nothing of theirs"):
        rpc.list_invoices(BILLER, {"client_id": elsewhere})
    with pytest.raises(RemoteError, match="AccessDenied"):
        rpc.list_invoices(BILLER, {"site_id": "south"})
    with pytest.raises(RemoteError, match="AccessDenied"):
        rpc.list_invoices(caller("clinician", ("north",)), {})


def test_claims_for_billers_only_and_fees_by_date(rpc, billing_db):
    price_site(rpc)
    assert len(rpc.list_fees(BILLER, {"on": "2026-06-01", "limit": 200})["items"]) == 9
    assert rpc.list_fees(BILLER, {"on": "2025-06-01"})["items"] == []
    assert rpc.list_claims(BILLER, {"status": "paid"})["items"] == []
    with pytest.raises(RemoteError, match="AccessDenied"):
        rpc.list_claims(caller("front_desk", ("north",)), {})
    with pytest.raises(RemoteError, match="status"):
        rpc.list_claims(ADMIN, {"status": "lost"})


def test_a_client_reads_their_own_statement_and_no_one_elses(rpc, billing_db):
    price_site(rpc)
    session = appointment()
    deliver(billing_db, "scheduling.appointment.completed", session, "billing.on_completed")
    client = session["client_ids"][0]
    rpc.open_account(BILLER, {"client_id": client, "payer": "self_pay", "currency": "USD"})
    login = random_id("login")
    deliver(billing_db, "records.login.linked", {"client_id": client, "user_id": login, "linked_as": "client"},
            "billing.on_login_linked", producer="records")
    me = caller("client", (), user_id=login, purpose="client_request")
    before = mark(billing_db)
    statement = rpc.my_statement(me)
    assert statement["balance_minor"] == 15000 and [c["code"] for c in statement["charges"]] == ["90834"]
    assert [(a["client_id"], a["action"]) for a in accesses(billing_db, before)] == [(client, "read")]
    # a guardian's link is not the client's own; nor is a login never linked; staff use the statement operation
    guardian = random_id("login")
    deliver(billing_db, "records.login.linked", {"client_id": client, "user_id": guardian, "linked_as": "guardian",
                                                 "guardian_id": random_id("g")}, "billing.on_login_linked",
            producer="records")
    for stranger in (caller("client", (), user_id=guardian), caller("client", (), user_id=random_id("login")), BILLER):
        with pytest.raises(RemoteError, match="AccessDenied"):
            rpc.my_statement(stranger)


def test_a_fee_is_ended_or_withdrawn_but_never_rewritten(rpc, billing_db):
    current = rpc.set_fee(ADMIN, {"site_id": "north", "payer": "self_pay", "code": "90834", "amount_minor": 15000,
                                  "currency": "USD", "effective_from": "2026-01-01"})
    coming = rpc.set_fee(ADMIN, {"site_id": "north", "payer": "self_pay", "code": "90834", "amount_minor": 16000,
                                 "currency": "USD", "effective_from": "2999-01-01"})
    assert rpc.end_fee(ADMIN, current["id"], "2998-12-31")["effective_until"] == "2998-12-31"
    with pytest.raises(RemoteError, match="effective_until"):
        rpc.end_fee(ADMIN, current["id"], "2025-12-31")
    with pytest.raises(RemoteError, match="in force since"):
        rpc.remove_fee(ADMIN, current["id"])
    rpc.remove_fee(ADMIN, coming["id"])
    fees = rpc.list_fees(BILLER, {"on": "2998-12-31"})["items"]
    assert [(f["id"], f["effective_until"]) for f in fees] == [(current["id"], "2998-12-31")]  # its last day
    assert rpc.list_fees(BILLER, {"on": "2999-01-01"})["items"] == []
    with pytest.raises(RemoteError, match="AccessDenied"):
        rpc.end_fee(caller("admin", ("south",)), current["id"], "2027-01-01")
    with pytest.raises(RemoteError, match="NotFound"):
        rpc.remove_fee(ADMIN, coming["id"])


def test_a_claim_asked_for_with_ids_that_are_not_ids_is_refused_by_name(rpc):
    for appointment_id, client_id, field in ((["x"], "c-1", "appointment_id"), ("a-1", True, "client_id"),
                                             ("a-1", "", "client_id")):
        with pytest.raises(RemoteError) as refused:
            rpc.create_claim(BILLER, appointment_id, client_id)
        assert refused.value.exc_type == "InvalidRequest" and field in str(refused.value), refused.value
