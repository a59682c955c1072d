"""Claims (837P-shaped) and superbills, with diagnoses read from the running
records service as the biller (records decides and records the access), and the
supervising provider as credentialing recorded it for the session date."""

import pytest
from billing_support import ADMIN, BILLER, appointment, count, deliver, price_site
from confide_billing.domain.claims import build_claim, validate_claim
from confide_testing import caller, random_id
from nameko.exceptions import RemoteError
from sqlalchemy import text

PROVIDER = {"site_id": "north", "name": "Confide North Clinic", "npi": "1234567893", "tax_id": "123456789",
            "address": {"line1": "1 Main St", "city": "Albany", "region": "NY", "postal_code": "12207"}}


@pytest.fixture
def records(billing, running_service):
    """The records service beside billing; an administrator's engine on its database."""
    return running_service("records").engine


@pytest.fixture
def clinic(rpc_client, rpc, billing_db, records):
    """A client in records with a diagnosis; their clinician, supervised, known to billing."""

    price_site(rpc)
    price_site(rpc, payer="aetna", fees={"90834": 11000, "90837": 13000})
    rpc.set_billing_provider(ADMIN, PROVIDER)
    desk, dr = caller("front_desk", ("north",)), caller("clinician", ("north",))
    with rpc_client() as cluster:
        client = cluster.records.register_client(desk, {"given_name": "Robin", "family_name": "Hale",
                                                        "date_of_birth": "1990-01-01", "home_site_id": "north"})["id"]
        cluster.records.assign_care_team(desk, client, {"clinician_id": dr["user_id"], "role": "primary"})
        cluster.records.add_diagnosis(dr, client, {"code": "F41.1"})
    supervisor = random_id("sup")
    for person, npi in ((dr["user_id"], "1245319599"), (supervisor, "1003000126")):
        deliver(billing_db, "credentialing.clinician.registered", {
            "clinician_id": person, "given_name": "A", "family_name": person, "national_id": npi,
            "home_site_id": "north"}, "billing.on_clinician")
    deliver(billing_db, "credentialing.supervision.started", {
        "supervision_id": random_id("s"), "supervisor_id": supervisor, "supervisee_id": dr["user_id"],
        "jurisdiction": "US-NY", "starts_on": "2026-01-01", "ends_on": None}, "billing.on_supervision")
    return {"client": client, "clinician": dr["user_id"], "supervisor": supervisor}


def test_a_claim_for_an_insured_session(rpc, billing_db, records, clinic):
    client = clinic["client"]
    rpc.open_account(BILLER, {"client_id": client, "payer": "aetna", "member_id": "W123456789", "currency": "USD"})
    session = appointment(client_ids=[client], clinician_id=clinic["clinician"], modality="telehealth")
    deliver(billing_db, "scheduling.appointment.completed", session, "billing.on_completed")

    claim = rpc.create_claim(BILLER, session["appointment_id"], client)
    doc = claim["document"]
    assert doc["diagnoses"] == [{"pointer": "A", "code": "F411"}]
    assert [(line["procedure_code"], line["modifiers"], line["place_of_service"], line["charge_minor"],
             line["diagnosis_pointers"]) for line in doc["service_lines"]] == [("90834", ["95"], "10", 11000, ["A"])]
    assert doc["rendering_provider"]["npi"] == "1245319599"
    assert doc["supervising_provider"]["id"] == clinic["supervisor"]  # pre-licensed: supervised that day
    assert doc["subscriber"] == {"payer_id": "aetna", "member_id": "W123456789"}
    with records.connect() as conn:  # records recorded the biller's read of the diagnoses
        reads = conn.execute(text("SELECT message->'payload'->>'resource_type' FROM outbox WHERE type = "
                                  "'records.access.recorded' AND message->'actor'->>'id' = :who"),
                             {"who": BILLER["user_id"]}).scalars().all()
    assert "Condition" in reads

    with pytest.raises(RemoteError) as twice:
        rpc.create_claim(BILLER, session["appointment_id"], client)
    assert "already has a claim" in str(twice.value)
    with pytest.raises(RemoteError) as early:
        rpc.update_claim(BILLER, claim["id"], {"status": "paid", "paid_minor": 9000})
    assert "status:" in str(early.value)
    rpc.update_claim(BILLER, claim["id"], {"status": "submitted"})
    paid = rpc.update_claim(BILLER, claim["id"], {"status": "paid", "paid_minor": 9000})
    assert paid["status"] == "paid"
    assert rpc.statement(BILLER, client)["balance_minor"] == 2000  # the client owes the rest


def test_an_invalid_claim_is_refused_and_nothing_kept(rpc, billing_db, clinic):
    client = clinic["client"]
    rpc.open_account(BILLER, {"client_id": client, "payer": "aetna", "currency": "USD"})  # no member id
    session = appointment(client_ids=[client], clinician_id=clinic["clinician"])
    deliver(billing_db, "scheduling.appointment.completed", session, "billing.on_completed")
    with pytest.raises(RemoteError) as refused:
        rpc.create_claim(BILLER, session["appointment_id"], client)
    assert refused.value.exc_type == "InvalidRequest" and "subscriber.member_id:" in str(refused.value)
    assert count(billing_db, "claims") == 0


def test_a_superbill_for_a_self_pay_client(rpc, billing_db, clinic):
    client = clinic["client"]
    rpc.open_account(BILLER, {"client_id": client, "payer": "self_pay", "currency": "USD"})
    deliver(billing_db, "scheduling.appointment.completed",
            appointment(client_ids=[client], clinician_id=clinic["clinician"], minutes=55), "billing.on_completed")
    rpc.record_payment(BILLER, {"client_id": client, "amount_minor": 18000, "currency": "USD", "method": "card"})
    bill = rpc.superbill(BILLER, {"client_id": client, "period_start": "2026-11-01", "period_end": "2026-11-30"})
    assert bill["diagnoses"] == ["F41.1"] and bill["provider"]["npi"] == PROVIDER["npi"]
    assert [(s["code"], s["fee_minor"]) for s in bill["sessions"]] == [("90837", 18000)]
    assert bill["paid_minor"] == 18000


@pytest.mark.unit
def test_claim_validation_names_every_problem():
    doc = build_claim(claim_id="c-1", billing_provider={"npi": "1234567890", "tax_id": "12-345"}, payer="self_pay",
                      member_id=None, client_id="c", rendering={"id": "dr", "npi": None}, supervising=None,
                      diagnoses=[], lines=[{"code": "99999", "modifiers": [], "units": 1, "amount_minor": 0,
                                            "place_of_service": "11", "service_date": "2026-11-02"}],
                      currency="USD")
    assert set(validate_claim(doc)) == {
        "billing_provider.npi", "billing_provider.tax_id", "subscriber.member_id", "subscriber.payer_id",
        "rendering_provider.npi", "diagnoses", "service_lines.1.procedure_code", "service_lines.1.charge_minor",
        "service_lines.1.diagnosis_pointers"}
