"""Credentialing and records together: a supervision started in credentialing
reaches records through the broker, and the supervisor may then read the
records of their supervisee's clients; ending it takes that away."""

import pytest
from confide_testing import caller, random_id, wait_until
from nameko.exceptions import RemoteError
from records_support import SITE, Clinic

OFFICER = caller("credentialing_officer", (SITE,), purpose="operations")
VERIFIED = {"source": "state board", "result": "verified"}


@pytest.fixture
def both(rpc_client, records_service, running_service):
    running_service("credentialing")
    with rpc_client() as rpc:
        yield rpc


def clinician(rpc, type_):
    dr = rpc.credentialing.register_clinician(OFFICER, {"id": random_id("dr"), "given_name": "A",
                                                        "family_name": "B", "home_site_id": SITE})["id"]
    lic = rpc.credentialing.record_license(OFFICER, dr, {"type": type_, "jurisdiction": "US-NY",
                                                         "number": random_id("L"), "issued_on": "2020-01-01",
                                                         "expires_on": "2030-01-01"})
    rpc.credentialing.verify_license(OFFICER, lic["id"], VERIFIED)
    return dr


def can_read(rpc, who, client_id):
    try:
        rpc.records.get_client(who, client_id)
        return True
    except RemoteError:
        return False


def test_supervision_flows_from_credentialing_to_records(both, records_db):
    associate, supervisor = clinician(both, "counselor_associate"), clinician(both, "lpc")
    clinic = Clinic(both.records, records_db)
    clinic.join(clinic.client_id, caller("clinician", (SITE,), user_id=associate))
    boss = caller("supervisor", (SITE,), user_id=supervisor)
    assert not can_read(both, boss, clinic.client_id)

    started = both.credentialing.start_supervision(OFFICER, {"supervisor_id": supervisor, "supervisee_id": associate,
                                                             "jurisdiction": "US-NY", "starts_on": "2026-01-01"})
    wait_until(lambda: can_read(both, boss, clinic.client_id), timeout=15, what="records to learn the supervision")
    both.credentialing.end_supervision(OFFICER, started["id"], "2026-02-01")
    wait_until(lambda: not can_read(both, boss, clinic.client_id), timeout=15, what="records to learn it ended")
