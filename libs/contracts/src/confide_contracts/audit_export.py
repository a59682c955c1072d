"""Exports of the trail: CSV, JSON Lines and FHIR R4 AuditEvent bundles.

The formats are part of the contract between the audit service and whoever
reads the trail (the gateway streams them; an auditor's tools parse them). Each
exporter takes an iterable of entries (as the ``query`` RPC returns them, page
after page) and yields text, so an export of any size runs in constant
memory: the gateway streams it to the client as it is produced.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

# the facts of an entry, as the audit service keeps them (confide_audit.domain.entry.AccessFacts)
FACT_FIELDS = ("event_id", "event_type", "producer", "occurred_at", "actor_id", "actor_role", "on_behalf_of",
               "site_id", "action", "outcome", "resource_type", "resource_id", "client_id", "purpose", "reason",
               "break_glass", "break_glass_reason", "source_address", "user_agent", "recipient", "trace_id")
COLUMNS = ("chain", "seq", "recorded_at", *FACT_FIELDS, "leaf_hash")

# FHIR R4 AuditEvent codes
_ACTION = {"create": "C", "read": "R", "update": "U", "delete": "D"}  # everything else: E (execute)
_SUBTYPE = {"create": "create", "read": "read", "update": "update", "delete": "delete", "search": "search-type"}
_V3_PURPOSE = {"treatment": "TREAT", "payment": "HPAYMT", "operations": "HOPERAT", "emergency": "ETREAT",
               "client_request": "PATRQT"}
V3_ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
CONFIDE_PURPOSE = "urn:confide:purpose-of-use"
CONFIDE_ACTION = "urn:confide:access-action"
AUDIT_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"


# the form itself: a string already in it is its own canonical form
CANONICAL_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
# the same, written by PostgreSQL (the audit service's verification reads timestamps so); NULL for a time
# the form cannot hold (before year 1 -- to_char would write a year BC as the same year AD -- from year 10000,
# or infinity), which then hashes as nothing any entry was
SQL_CANONICAL_TIMESTAMP = ("CASE WHEN {column} >= TIMESTAMPTZ '0001-01-01 00:00:00+00' "
                           "AND {column} < TIMESTAMPTZ '10000-01-01 00:00:00+00' "
                           "THEN to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') END")


def timestamp(value: datetime | str) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (isoformat is several times faster than strftime; its
    ``+00:00`` cut off, rather than the time copied without its zone first: 1.4 µs against 2.4, once for
    each entry appended)."""
    if isinstance(value, str):
        if CANONICAL_TIMESTAMP.fullmatch(value):
            return value
        value = datetime.fromisoformat(value)
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")[:-6] + "Z"  # (in UTC: always "+00:00")


def canonical(chain: int, seq: int, recorded_at: datetime | str, facts: Mapping[str, Any]) -> bytes:
    """The bytes of an entry that are hashed into its chain's Merkle tree (the
    leaf is SHA-256(0x00 || these)): JSON with sorted keys, no insignificant
    white space, UTF-8, timestamps in UTC to the microsecond (a JCS-compatible
    form for the strings, booleans, integers and nulls an entry holds). orjson
    writes the same bytes as ``json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``, several times faster. ``facts``: the entry's
    FACT_FIELDS, as the audit service keeps them or an export carries them."""
    document: dict[str, Any] = {name: facts[name] for name in FACT_FIELDS}
    document["occurred_at"] = timestamp(facts["occurred_at"])
    document["chain"] = chain
    document["seq"] = seq
    document["recorded_at"] = timestamp(recorded_at)
    return canonical_document(document)


# an entry as the document that is hashed: what :func:`canonical_document` takes
DOCUMENT_FIELDS = ("chain", "seq", "recorded_at", *FACT_FIELDS)


def canonical_document(document: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a document that holds exactly ``DOCUMENT_FIELDS``,
    its timestamps already in the canonical form (as :func:`timestamp` writes
    them, or PostgreSQL with ``SQL_CANONICAL_TIMESTAMP``): verification reads
    rows so and hashes them as they come, with no copy of its own."""
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def csv_lines(entries: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        writer.writerow(entry)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


def jsonl_lines(entries: Iterable[dict[str, Any]]) -> Iterator[str]:
    for entry in entries:
        yield orjson.dumps({k: entry.get(k) for k in COLUMNS}).decode() + "\n"


def to_fhir(entry: dict[str, Any]) -> dict[str, Any]:
    """One entry as a FHIR R4 AuditEvent (the one place this mapping lives)."""
    action = entry["action"]
    purpose = [{"coding": [{"system": CONFIDE_PURPOSE, "code": entry["purpose"]}]}]
    if entry["purpose"] in _V3_PURPOSE:
        purpose[0]["coding"].insert(0, {"system": V3_ACT_REASON, "code": _V3_PURPOSE[entry["purpose"]]})
    if entry.get("break_glass"):
        purpose.append({"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                    "code": "BTG", "display": "break the glass"}],
                        "text": entry.get("break_glass_reason")})
    agent: dict[str, Any] = {
        "type": {"coding": [{"system": "urn:confide:role", "code": entry["actor_role"]}]},
        "who": {"identifier": {"system": "urn:confide:user", "value": entry["actor_id"]}},
        "requestor": True,
    }
    if entry.get("source_address"):
        agent["network"] = {"address": entry["source_address"], "type": "2"}
    agents = [agent]
    if entry.get("on_behalf_of"):
        agents.append({"who": {"identifier": {"system": "urn:confide:user", "value": entry["on_behalf_of"]}},
                       "requestor": False})
    # what was accessed (a system object, named by our resource type; its id where there is one: a
    # refused creation made nothing), and whose record it is (a person, in the role of patient)
    resource: dict[str, Any] = {"type": {"system": AUDIT_ENTITY_TYPE, "code": "2", "display": "System Object"},
                                "name": entry["resource_type"]}
    if entry.get("resource_id"):
        resource["what"] = {"identifier": {"system": f"urn:confide:{entry['resource_type']}",
                                           "value": entry["resource_id"]}}
    entities: list[dict[str, Any]] = [resource]
    if entry.get("client_id"):
        entities.append({
            "what": {"identifier": {"system": "urn:confide:client", "value": entry["client_id"]}},
            "type": {"system": AUDIT_ENTITY_TYPE, "code": "1", "display": "Person"},
            "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1",
                     "display": "Patient"},
        })
    if entry.get("recipient"):
        entities.append({"name": entry["recipient"],
                         "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "3",
                                  "display": "Report"},
                         "description": "recipient of the disclosure"})
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": entry["event_id"],
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest",
                 "display": "RESTful Operation"},
        "subtype": [{"system": CONFIDE_ACTION, "code": action}],
        "action": _ACTION.get(action, "E"),
        "period": {"start": entry["occurred_at"], "end": entry["occurred_at"]},
        "recorded": entry["recorded_at"],
        "outcome": "0" if entry["outcome"] == "allowed" else "4",
        "purposeOfEvent": purpose,
        "agent": agents,
        "source": {"site": entry.get("site_id") or "network",
                   "observer": {"display": entry["producer"]},
                   "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4"}]},
        "entity": entities,
        "extension": [{"url": "urn:confide:audit-position",
                       "valueString": f"chain {entry['chain']} seq {entry['seq']} leaf {entry['leaf_hash']}"}],
    }
    if action in _SUBTYPE:
        event["subtype"].insert(0, {"system": "http://hl7.org/fhir/restful-interaction", "code": _SUBTYPE[action]})
    if entry.get("reason"):
        event["outcomeDesc"] = entry["reason"]
    return event


def fhir_bundle_chunks(entries: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A FHIR ``collection`` Bundle of AuditEvents, written piece by piece."""
    yield '{"resourceType":"Bundle","type":"collection","entry":['
    first = True
    for entry in entries:
        event = to_fhir(entry)
        piece = orjson.dumps({"fullUrl": f"urn:uuid:{entry['event_id']}", "resource": event}).decode()
        yield piece if first else "," + piece
        first = False
    yield "]}"


EXPORTERS = {"csv": csv_lines, "jsonl": jsonl_lines, "fhir": fhir_bundle_chunks}


def export(fmt: str, entries: Iterable[dict[str, Any]]) -> Iterator[str]:
    if fmt not in EXPORTERS:
        raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(EXPORTERS)}")
    return EXPORTERS[fmt](entries)


def pages(fetch, filters: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every entry matching ``filters``, fetching one page at a time with
    ``fetch(filters) -> {"entries": [...], "next_cursor": ...}``."""
    cursor = None
    while True:
        page = fetch({**filters, "cursor": cursor})
        yield from page["entries"]
        cursor = page["next_cursor"]
        if cursor is None:
            return
