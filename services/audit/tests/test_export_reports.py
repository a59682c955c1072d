"""Exports in CSV, JSON Lines and FHIR R4 AuditEvent bundles, and the reports
compliance officers run."""

import csv
import io
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from audit_support import officer
from confide_contracts.audit_export import export, pages
from confide_testing import caller, random_id, wait_until
from nameko.exceptions import RemoteError


@pytest.fixture
def rpc(rpc_client, audit):
    with rpc_client() as client:
        yield client


@pytest.fixture
def trail(rpc, producer):
    client = random_id("client")
    producer.access(6, client_id=client)
    producer.access(2, client_id=client, outcome="denied", reason="not on care team", actor_id="dr-nosy")
    producer.access(1, client_id=client, action="disclose", purpose="disclosure", recipient="County Court")
    producer.access(1, client_id=client, purpose="emergency", break_glass_reason="client in crisis, on call")
    # (officers' own lookups of this client are audited too: hence producer="records")
    mine = {"client_id": client, "producer": "records"}
    wait_until(lambda: len(rpc.audit.query(officer(), mine)["entries"]) == 10)
    return client


def exported(rpc, fmt, client):
    who = officer()
    filters = {"client_id": client, "producer": "records", "limit": 3}
    entries = pages(lambda f: rpc.audit.query(who, f, export=True), filters)
    return "".join(export(fmt, entries))


def test_csv_export_streams_every_page(rpc, trail):
    rows = list(csv.DictReader(io.StringIO(exported(rpc, "csv", trail))))
    assert len(rows) == 10
    assert {r["client_id"] for r in rows} == {trail}
    assert rows[0].keys() >= {"chain", "seq", "occurred_at", "actor_id", "action", "outcome", "leaf_hash"}


def test_jsonl_export(rpc, trail):
    lines = exported(rpc, "jsonl", trail).splitlines()
    assert len(lines) == 10
    assert all(json.loads(line)["client_id"] == trail for line in lines)


def test_fhir_bundle_of_audit_events(rpc, trail):
    bundle = json.loads(exported(rpc, "fhir", trail))
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    events = [e["resource"] for e in bundle["entry"]]
    assert len(events) == 10
    for event in events:
        assert event["resourceType"] == "AuditEvent"
        # R4 required elements: type, recorded, agent (with requestor), source (with observer)
        assert event["type"]["code"] and event["recorded"]
        assert event["agent"] and all("requestor" in a for a in event["agent"])
        assert event["source"]["observer"]
        assert event["outcome"] in {"0", "4"}
        assert event["action"] in {"C", "R", "U", "D", "E"}
    denied = [e for e in events if e["outcome"] == "4"]
    assert len(denied) == 2 and denied[0]["outcomeDesc"] == "not on care team"
    glass = [e for e in events if any(c["code"] == "BTG" for p in e["purposeOfEvent"] for c in p["coding"])]
    assert len(glass) == 1 and glass[0]["purposeOfEvent"][0]["coding"][0]["code"] == "ETREAT"
    disclosure = [e for e in events if e["action"] == "E"]
    assert any(ent.get("name") == "County Court" for ent in disclosure[0]["entity"])
    patient = [ent for e in events for ent in e["entity"] if ent.get("role", {}).get("code") == "1"]
    assert {p["what"]["identifier"]["value"] for p in patient} == {trail}


def test_an_export_is_recorded_once_as_an_export(rpc, trail):
    who = officer()
    "".join(export("jsonl", pages(lambda f: rpc.audit.query(who, f, export=True), {"client_id": trail, "limit": 3})))
    records = wait_until(lambda: rpc.audit.query(officer(), {"actor_id": who["user_id"]})["entries"])
    assert [(r["action"], r["resource_id"]) for r in records] == [("export", "export")]


@pytest.mark.unit
def test_unknown_export_format_is_refused():
    with pytest.raises(ValueError, match="csv, jsonl, fhir"):
        export("xml", [])


def test_denied_attempts_by_actor(rpc, trail):
    report = rpc.audit.denied_by_actor(officer())
    assert report[0]["actor_id"] == "dr-nosy" and report[0]["denied"] == 2


def test_after_hours_report(rpc, trail):
    zone = "America/Chicago"
    now = datetime.now(UTC).astimezone(ZoneInfo(zone))
    weekend = now.isoweekday() >= 6
    # hours that exclude now, then hours that include it
    closed_now = (now.hour + 1, now.hour + 2) if now.hour < 22 else (0, 1)
    open_now = (now.hour, now.hour + 1)
    outside = rpc.audit.after_hours(officer(), zone, *closed_now)
    inside = rpc.audit.after_hours(officer(), zone, *open_now)

    def mine(rows):
        return [e for e in rows if e["client_id"] == trail and e["producer"] == "records"]
    assert len(mine(outside)) == 10
    assert len(mine(inside)) == (10 if weekend else 0)


def test_after_hours_refuses_bad_input_by_name(rpc):
    with pytest.raises(RemoteError) as caught:
        rpc.audit.after_hours(officer(), "Mars/Olympus", 18, 8)
    assert "time_zone" in str(caught.value) and "closes" in str(caught.value)


def test_break_the_glass_without_review(rpc, producer, audit_db):
    """Read from the trail alone: a grant opened (records' break-the-glass access
    to a BreakGlassGrant) and no officer's update of it since."""
    client, doctor = random_id("client"), random_id("dr-er")
    glass = {"break_glass_reason": "client in crisis, primary unreachable", "client_id": client, "actor_id": doctor}
    producer.access(2, resource_type="BreakGlassGrant", **glass)  # grants note-0 and note-1
    producer.access(3, resource_type="Note", **glass)  # reads under them
    producer.access(1, resource_type="Note", client_id=client, actor_id=doctor)  # an ordinary read
    reviewer = random_id("co")
    producer.access(1, resource_type="BreakGlassGrant", action="update", role="compliance_officer",
                    actor_id=reviewer, client_id=client)  # reviews note-0
    # (each officer's lookup of this client is itself recorded, hence producer="records")
    mine = {"client_id": client, "producer": "records"}
    wait_until(lambda: len(rpc.audit.query(officer(), mine)["entries"]) == 7, what="the seven accesses")
    report = [r for r in rpc.audit.break_glass_unreviewed(officer()) if r["client_id"] == client]
    assert [r["grant_id"] for r in report] == ["note-1"]
    assert report[0]["actor_id"] == doctor
    assert report[0]["reads_under_grant"] == 3
    assert report[0]["reason"] == "client in crisis, primary unreachable"
    # a grant only counts once it is older than asked for
    assert not [r for r in rpc.audit.break_glass_unreviewed(officer(), older_than_hours=2) if r["client_id"] == client]
    with pytest.raises(RemoteError) as caught:
        rpc.audit.break_glass_unreviewed(caller(), 0)
    assert caught.value.exc_type == "AccessDenied"
