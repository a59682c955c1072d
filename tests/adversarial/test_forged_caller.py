"""Someone with a broker login calls a service directly, claiming to be whoever
suits them. Before caller assertions, the service believed the dict."""

from __future__ import annotations

import uuid

import pytest
from confide_access.assertions import CallerSigner
from confide_testing import caller, random_id, wait_until
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcClient


@pytest.fixture
def stack(running_service):
    running_service("records")
    running_service("audit", AUDIT_PARTITIONS=1, AUDIT_FLUSH_MS=20, AUDIT_LOG_NAME="confide.test/audit")


def test_a_caller_claimed_over_the_broker_is_refused_and_recorded(stack, rpc_client):
    claimed = random_id("officer")
    forged = {"user_id": claimed, "role": "compliance_officer", "sites": [], "purpose": "operations"}
    with ClusterRpcClient() as broker, pytest.raises(RemoteError) as refused:
        broker.records.get_psychotherapy_notes(forged, str(uuid.uuid4()))
    assert refused.value.exc_type == "AccessDenied"
    with ClusterRpcClient() as broker, pytest.raises(RemoteError) as refused:
        broker.audit.query(forged, {})
    assert refused.value.exc_type == "AccessDenied"

    officer = caller("compliance_officer", (), purpose="operations")
    with rpc_client() as rpc:
        def recorded():
            found = rpc.audit.query(officer, {"actor_id": claimed, "outcome": "denied"})["entries"]
            return found if len(found) == 2 else None

        entries = wait_until(recorded, timeout=20, what="both refusals in the trail")
    assert {e["resource_id"] for e in entries} == {"records.get_psychotherapy_notes", "audit.query"}
    assert all("caller not verified" in e["reason"] and e["actor_role"] == "unverified" for e in entries)


def test_an_assertion_for_one_service_is_refused_by_another(stack, caller_signer):
    """An assertion seen on its way to scheduling cannot be replayed to records."""
    token = caller_signer.sign(caller("clinician"), ["scheduling"])
    with ClusterRpcClient() as broker, pytest.raises(RemoteError) as refused:
        broker.records.get_psychotherapy_notes(token, str(uuid.uuid4()))
    assert refused.value.exc_type == "AccessDenied"


def test_a_service_cannot_vouch_for_a_person(stack, service_transit):
    """Records' own Vault identity may certify records, and records only as itself."""
    as_records = CallerSigner(service_transit, "records")
    token = as_records.sign(caller("compliance_officer", ()), ["audit"])
    with ClusterRpcClient() as broker, pytest.raises(RemoteError) as refused:
        broker.audit.query(token, {})
    assert refused.value.exc_type == "AccessDenied"
