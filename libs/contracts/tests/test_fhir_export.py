"""Each kind of trail entry as a FHIR AuditEvent, validated against the R4
structure (fhir.resources' R4B models: AuditEvent is unchanged from R4)."""

import orjson
import pytest
from confide_contracts.audit_export import export, to_fhir
from fhir.resources.R4B.bundle import Bundle

pytestmark = pytest.mark.unit

ENTRY = {"event_id": "0192f5d3-7d7e-7c1a-8b9e-3f2a1c4d5e6f", "event_type": "records.access.recorded",
         "producer": "records", "occurred_at": "2026-11-30T10:00:00+00:00", "recorded_at": "2026-11-30T10:00:01+00:00",
         "actor_id": "dr-ana-ruiz", "actor_role": "clinician", "on_behalf_of": None, "site_id": "north",
         "action": "read", "outcome": "allowed", "resource_type": "Note", "resource_id": "note-1",
         "client_id": "c-1", "purpose": "treatment", "reason": "care_team: on the client's care team",
         "break_glass": False, "break_glass_reason": None, "source_address": "10.0.0.7", "user_agent": "curl",
         "recipient": None, "trace_id": None, "chain": 0, "seq": 7, "leaf_hash": "ab" * 32}


@pytest.mark.parametrize("changes", [
    {},
    {"resource_id": None, "client_id": None, "action": "create", "outcome": "denied", "site_id": None,
     "reason": "role client may not register clients"},  # a refused registration made nothing
    {"action": "disclose", "purpose": "disclosure", "recipient": "Dr. Priya Patel, primary care"},
    {"break_glass": True, "break_glass_reason": "crisis call", "purpose": "emergency", "on_behalf_of": "dr-sam"},
    {"action": "export", "purpose": "client_request", "actor_role": "client", "actor_id": "client-robin"},
])
def test_every_kind_of_entry_is_a_valid_audit_event(changes):
    entry = {**ENTRY, **changes}
    bundle = Bundle.model_validate_json("".join(export("fhir", [entry])))
    [event] = [e.resource for e in bundle.entry]
    assert event.action in "CRUDE" and event.outcome in ("0", "4") and event.type.code == "rest"
    assert to_fhir(entry)["id"] == entry["event_id"]
    assert all(e.what is None or e.what.identifier.value for e in event.entity)
    assert orjson.loads(event.model_dump_json())["resourceType"] == "AuditEvent"
