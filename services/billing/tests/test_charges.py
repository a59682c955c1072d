"""Charges from scheduling's events, exactly once; reversals; sliding scale and
fees; invoices and payments; bad input refused with nothing written."""

import pytest
from billing_support import ADMIN, BILLER, appointment, count, deliver, price_site, register
from confide_messaging.publisher import ConfirmingPublisher, OutgoingMessage
from confide_testing import caller, random_id, wait_until
from nameko import config
from nameko.exceptions import RemoteError
from sqlalchemy import text


def test_the_same_completed_event_three_times_makes_one_charge(rpc, billing_db):
    price_site(rpc)
    session = appointment()
    client = session["client_ids"][0]
    event = deliver(billing_db, "scheduling.appointment.completed", session, "billing.on_completed")
    publisher = ConfirmingPublisher(config["AMQP_URI"])  # the broker redelivers it twice more
    try:
        publisher.publish([OutgoingMessage.for_event(event.to_message())] * 2)
    finally:
        publisher.close()
    deliver(billing_db, "scheduling.appointment.completed", session, "billing.on_completed")  # a new event id, too
    wait_until(lambda: count(billing_db, "inbox") >= 2)
    statement = rpc.statement(BILLER, client)
    assert [(c["code"], c["amount_minor"], c["kind"]) for c in statement["charges"]] == [("90834", 15000, "service")]
    assert statement["balance_minor"] == 15000

    reversed_ = rpc.reverse_charge(BILLER, statement["charges"][0]["id"], "wrong duration documented")
    assert reversed_["amount_minor"] == -15000
    assert rpc.statement(BILLER, client)["balance_minor"] == 0
    with pytest.raises(RemoteError) as twice:
        rpc.reverse_charge(BILLER, statement["charges"][0]["id"], "again")
    assert "already reversed" in str(twice.value)


def test_telehealth_family_and_group_sessions(rpc, billing_db):
    price_site(rpc)
    family = appointment(kind="family", service_kind="family_psychotherapy", modality="telehealth", minutes=50)
    group = appointment(kind="group", service_kind="group_psychotherapy", minutes=90, interactive_complexity=True,
                        client_ids=["g-1-" + family["appointment_id"], "g-2-" + family["appointment_id"]])
    short = appointment(minutes=12)
    for session in (family, group, short):
        deliver(billing_db, "scheduling.appointment.completed", session, "billing.on_completed")
    charges = rpc.statement(BILLER, family["client_ids"][0])["charges"]
    assert [(c["code"], c["modifiers"], c["place_of_service"]) for c in charges] == [("90847", ["95"], "10")]
    for member in group["client_ids"]:
        assert {c["code"] for c in rpc.statement(BILLER, member)["charges"]} == {"90853", "90785"}
    nothing = rpc.statement(BILLER, short["client_ids"][0])
    assert nothing["charges"] == [] and "below the 16-minute minimum" in nothing["unbilled"][0]["reason"]


def test_sliding_scale_and_insured_clients(rpc, billing_db):
    price_site(rpc)
    price_site(rpc, payer="aetna", fees={"90834": 11000})
    rpc.set_sliding_scale(ADMIN, {"site_id": "north", "currency": "USD", "tiers": [
        {"name": "A", "max_income_minor": 2_500_000, "percent": 40},
        {"name": "B", "max_income_minor": 5_000_000, "percent": 60}]})
    low, mid, high, insured = (appointment() for _ in range(4))
    for session, income, payer in ((low, 1_800_000, "self_pay"), (mid, 3_000_000, "self_pay"),
                                   (high, 9_000_000, "self_pay"), (insured, 1_000_000, "aetna")):
        rpc.open_account(BILLER, {"client_id": register(billing_db, session["client_ids"][0]), "payer": payer,
                                  "currency": "USD",
                                  "annual_income_minor": income})
        deliver(billing_db, "scheduling.appointment.completed", session, "billing.on_completed")
    amounts = [rpc.statement(BILLER, s["client_ids"][0])["charges"][0] for s in (low, mid, high, insured)]
    assert [(c["amount_minor"], c["sliding_tier"]) for c in amounts] == [
        (6000, "A"), (9000, "B"), (15000, None), (11000, None)]  # the scale is for self-pay clients only


def test_no_show_and_late_cancellation_fees(rpc, billing_db):
    rpc.set_site_policy(ADMIN, {"site_id": "north", "currency": "USD", "no_show_fee_minor": 5000,
                                "late_cancel_fee_minor": 3500})
    no_show = appointment(status="no_show", minutes=None)
    late = appointment(status="cancelled", minutes=None, cancelled_by="client", late=True)
    timely = appointment(status="cancelled", minutes=None, cancelled_by="client", late=False)
    by_clinic = appointment(status="cancelled", minutes=None, cancelled_by="clinic", late=True)
    deliver(billing_db, "scheduling.appointment.no_show", no_show, "billing.on_no_show")
    for session in (late, timely, by_clinic):
        deliver(billing_db, "scheduling.appointment.cancelled", session, "billing.on_cancelled")
    owed = {name: rpc.statement(BILLER, s["client_ids"][0])["balance_minor"] if count(
        billing_db, "accounts", s["client_ids"][0]) else 0
        for name, s in (("no_show", no_show), ("late", late), ("timely", timely), ("clinic", by_clinic))}
    assert owed == {"no_show": 5000, "late": 3500, "timely": 0, "clinic": 0}


def test_a_payment_split_across_invoices(rpc, billing_db):
    price_site(rpc)
    client = register(billing_db, random_id("client-split"))
    rpc.open_account(BILLER, {"client_id": client, "payer": "self_pay", "currency": "USD"})
    for day, minutes in (("2026-10-05", 30), ("2026-11-02", 45)):
        deliver(billing_db, "scheduling.appointment.completed",
                appointment(client_ids=[client], minutes=minutes, starts_at=f"{day}T15:00:00+00:00"),
                "billing.on_completed")
    october = rpc.issue_invoice(BILLER, {"client_id": client, "period_start": "2026-10-01", "period_end": "2026-10-31"})
    november = rpc.issue_invoice(BILLER, {"client_id": client, "period_start": "2026-11-01",
                                          "period_end": "2026-11-30"})
    assert (october["total_minor"], november["total_minor"]) == (9000, 15000)
    paid = rpc.record_payment(BILLER, {"client_id": client, "amount_minor": 20000, "currency": "USD",
                                       "method": "card"})
    assert [(a["invoice_id"], a["amount_minor"]) for a in paid["allocations"]] == [
        (october["id"], 9000), (november["id"], 11000)]
    # what is still owed is a whole number of cents, as JSON carries it (not a SUM's Decimal)
    part_paid = rpc.statement(BILLER, client)["invoices"][1]
    assert part_paid["outstanding_minor"] == 4000 and type(part_paid["outstanding_minor"]) is int
    over = rpc.record_payment(BILLER, {"client_id": client, "amount_minor": 10000, "currency": "USD",
                                       "method": "cash"})
    assert over["credit_minor"] == 6000 and rpc.statement(BILLER, client)["balance_minor"] == -6000
    with pytest.raises(RemoteError) as too_much:
        rpc.refund(BILLER, {"client_id": client, "amount_minor": 6001, "currency": "USD", "method": "card"})
    assert "amount_minor:" in str(too_much.value)
    rpc.refund(BILLER, {"client_id": client, "amount_minor": 6000, "currency": "USD", "method": "card"})
    statement = rpc.statement(BILLER, client)
    assert statement["balance_minor"] == 0 and all(i["outstanding_minor"] == 0 for i in statement["invoices"])


@pytest.mark.parametrize(("call", "payload", "field", "says", "error"), [
    ("record_payment", {"amount_minor": -500}, "amount_minor", "must be positive", "InvalidRequest"),
    ("record_payment", {"amount_minor": 12.5}, "amount_minor", "integer", "InvalidRequest"),
    ("record_payment", {"currency": "EUR"}, "currency", "the account is in USD", "Conflict"),  # the account's state
    ("record_payment", {"currency": "XYZ"}, "currency", "ISO 4217", "InvalidRequest"),
    ("set_fee", {"code": "99999"}, "code", "unknown service code", "InvalidRequest"),
])
def test_bad_input_is_refused_and_nothing_written(rpc, billing_db, call, payload, field, says, error):
    register(billing_db, "client-bad")
    rpc.open_account(BILLER, {"client_id": "client-bad", "payer": "self_pay", "currency": "USD"})
    before = [count(billing_db, t) for t in ("payments", "allocations", "fee_schedules")]
    base = {"record_payment": {"client_id": "client-bad", "amount_minor": 1000, "currency": "USD", "method": "card"},
            "set_fee": {"site_id": "north", "payer": "self_pay", "code": "90834", "amount_minor": 100,
                        "currency": "USD", "effective_from": "2026-01-01"}}[call]
    who = ADMIN if call == "set_fee" else BILLER
    with pytest.raises(RemoteError) as refused:
        getattr(rpc, call)(who, {**base, **payload})
    assert refused.value.exc_type == error
    assert f"{field}:" in str(refused.value) and says in str(refused.value)
    assert [count(billing_db, t) for t in ("payments", "allocations", "fee_schedules")] == before


def test_reads_are_recorded_and_clinicians_are_refused(rpc, billing_db):
    register(billing_db, "client-r")
    rpc.open_account(BILLER, {"client_id": "client-r", "payer": "self_pay", "currency": "USD"})
    rpc.statement(BILLER, "client-r")
    with pytest.raises(RemoteError) as refused:
        rpc.statement(caller("clinician", ("north",)), "client-r")
    assert refused.value.exc_type == "AccessDenied"
    from sqlalchemy import text

    with billing_db.connect() as conn:
        outcomes = conn.execute(text(
            "SELECT message->'payload'->>'outcome' FROM outbox WHERE type = 'billing.access.recorded' "
            "AND message->'payload'->>'client_id' = 'client-r' ORDER BY seq")).scalars().all()
    assert outcomes == ["allowed", "allowed", "denied"]


def test_staff_see_the_books_of_their_own_sites_clients_only(rpc, billing_db):
    """Billing once answered any biller about any client of the network."""
    south = register(billing_db, random_id("client-south"), site="south")
    rpc.open_account(caller("biller", ("south",), purpose="payment"), {"client_id": south, "payer": "self_pay",
                                                                      "currency": "USD"})
    nobody = random_id("client-nobody")
    answers = []
    for client in (south, nobody):
        for call, args in (("statement", (client,)), ("record_payment", ({
                "client_id": client, "amount_minor": 100, "currency": "USD", "method": "cash"},))):
            with pytest.raises(RemoteError) as refused:
                getattr(rpc, call)(BILLER, *args)  # a biller of north
            assert refused.value.exc_type == "AccessDenied"
            answers.append(str(refused.value.value).replace(client, "…"))
    assert len(set(answers)) == 1, answers  # another site's client and no client at all: the same words
    with pytest.raises(RemoteError):
        rpc.set_fee(ADMIN, {"site_id": "south", "payer": "self_pay", "code": "90834", "amount_minor": 1,
                            "currency": "USD"})  # an admin of north sets north's prices only
    assert count(billing_db, "payments", south) == 0
    with billing_db.connect() as conn:
        reasons = conn.execute(text(
            "SELECT message->'payload'->>'reason' FROM outbox WHERE type = 'billing.access.recorded' "
            "AND message->'payload'->>'outcome' = 'denied' AND message->'payload'->>'client_id' = :c"),
            {"c": south}).scalars().all()
    assert reasons and all("outside the caller's sites" in r for r in reasons)


def test_a_charge_of_another_sites_client_is_answered_as_one_that_does_not_exist(rpc, billing_db):
    """Reversing another site's charge once answered "no client <their id>": it named the client."""
    import uuid

    south_admin = caller("admin", ("south",), purpose="operations")
    price_site(rpc)
    rpc.set_fee(south_admin, {"site_id": "south", "payer": "self_pay", "code": "90834", "amount_minor": 15000,
                              "currency": "USD", "effective_from": "2026-01-01"})
    session = appointment(site_id="south")
    deliver(billing_db, "scheduling.appointment.completed", session, "billing.on_completed")
    south_biller = caller("biller", ("south",), purpose="payment")
    charge = rpc.statement(south_biller, session["client_ids"][0])["charges"][0]["id"]
    answers = []
    for charge_id in (charge, str(uuid.uuid4())):
        with pytest.raises(RemoteError) as refused:
            rpc.reverse_charge(BILLER, charge_id, "not ours")  # a biller of north
        assert refused.value.exc_type == "AccessDenied"
        answers.append(str(refused.value.value).replace(charge_id, "…"))
    assert len(set(answers)) == 1 and session["client_ids"][0] not in answers[0], answers
    assert len(rpc.statement(south_biller, session["client_ids"][0])["charges"]) == 1  # nothing reversed
