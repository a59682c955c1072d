"""The whole story over HTTP on the real stack, as a clinic would live it: a
site, a licensed clinician, a client, a telehealth session refused where the
clinician is not licensed and booked where they are, completed, a signed note,
the charge and the invoice -- and then a compliance officer finds each of
those accesses in the audit trail, in order, and verifies the log. One trace id
spans one request across services."""

import json
from datetime import UTC, date, datetime, timedelta

from confide_telemetry import configure_tracing
from confide_testing import random_id, wait_until
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

VERIFIED = {"source": "NY Office of the Professions online verification", "reference": "OP-1", "result": "verified"}


def ok(answer, status=200):
    assert answer.status_code == status, (answer.status_code, answer.text)
    return answer.json()


def test_a_session_from_booking_to_invoice_and_its_trail(stack, monkeypatch, capsys):
    spans = InMemorySpanExporter()
    configure_tracing("confide-tests", SimpleSpanProcessor(spans))
    site, dr = random_id("north"), random_id("dr")
    admin = stack.token(random_id("admin"), "admin", sites=(site,))
    officer = stack.token(random_id("cred"), "credentialing_officer", sites=(site,))
    desk = stack.token(random_id("desk"), "front_desk", sites=(site,))
    clinician = stack.token(dr, "clinician", sites=(site,))
    biller = stack.token(random_id("biller"), "biller", sites=(site,))
    compliance = stack.token(random_id("co"), "compliance_officer", sites=())

    ok(stack.call("POST", "/sites", admin, json={"id": site, "name": "North", "jurisdiction": "US-NY",
                                                 "time_zone": "America/New_York"}), 201)
    ok(stack.call("POST", "/clinicians", officer, json={"id": dr, "given_name": "Ana", "family_name": "Ruiz",
                                                        "national_id": "1234567893", "home_site_id": site}), 201)
    lic = ok(stack.call("POST", f"/clinicians/{dr}/licenses", officer, json={
        "type": "lcsw", "jurisdiction": "US-NY", "number": random_id("L"), "issued_on": "2020-01-01",
        "expires_on": (date.today() + timedelta(days=400)).isoformat()}), 201)
    ok(stack.call("POST", f"/licenses/{lic['id']}/verification", officer, json=VERIFIED))
    for weekday in range(7):
        ok(stack.call("POST", "/availability", desk, json={"clinician_id": dr, "site_id": site, "weekday": weekday,
                                                           "starts": "00:00", "ends": "23:59",
                                                           "valid_from": "2026-01-01"}), 201)
    client = ok(stack.call("POST", "/clients", desk, json={
        "given_name": "Robin", "family_name": "Hale", "date_of_birth": "1988-04-02", "home_site_id": site}), 201)["id"]
    ok(stack.call("POST", f"/clients/{client}/care-team", desk, json={"clinician_id": dr, "role": "primary"}), 201)
    ok(stack.call("PUT", "/fees", admin, json={"site_id": site, "payer": "self_pay", "code": "90834",
                                               "amount_minor": 15000, "currency": "USD",
                                               "effective_from": "2026-01-01"}))

    starts = (datetime.now(UTC) + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    session = {"site_id": site, "clinician_id": dr, "client_ids": [client], "kind": "individual",
               "service_kind": "individual_psychotherapy", "modality": "telehealth", "planned_minutes": 50}

    def book(jurisdiction, at):
        return stack.call("POST", "/appointments", desk, json={**session, "client_jurisdiction": jurisdiction,
                                                               "starts_at": at.isoformat()})

    # the licence reaches scheduling as an event; once it has, New York is bookable
    booked = wait_until(lambda: (a := book("US-NY", starts)).status_code == 201 and a.json(), timeout=30,
                        what="scheduling to learn of the licence")
    refused = book("US-CA", starts + timedelta(days=1))
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("/not-licensed") and "US-CA" in refused.json()["detail"]

    ok(stack.call("POST", f"/appointments/{booked['id']}/check-in", desk))
    ok(stack.call("POST", f"/appointments/{booked['id']}/completion", clinician, json={"minutes": 50}))
    created = stack.call("POST", "/notes", clinician, json={
        "kind": "progress", "session_kind": "individual", "appointment_id": booked["id"],
        "service_date": date.today().isoformat(), "site_id": site, "client_ids": [client],
        "sections": [{"body": "Worked on sleep hygiene."}]})
    note = ok(created, 201)
    ok(stack.call("POST", f"/notes/{note['id']}/signature", clinician))

    statement = wait_until(lambda: (s := ok(stack.call("GET", f"/clients/{client}/statement", biller)))["charges"]
                           and s, timeout=30, what="the charge for the completed session")
    assert [(c["code"], c["amount_minor"]) for c in statement["charges"]] == [("90834", 15000)]
    invoice = ok(stack.call("POST", "/invoices", biller, json={
        "client_id": client, "period_start": (date.today() - timedelta(days=1)).isoformat(),
        "period_end": (date.today() + timedelta(days=1)).isoformat()}), 201)
    assert invoice["total_minor"] == 15000
    ok(stack.call("POST", "/payments", biller, json={"client_id": client, "amount_minor": 5000, "currency": "USD",
                                                     "method": "card"}), 201)

    # the compliance officer's view: every access, in order
    wanted = [("records", "create", "Client"), ("scheduling", "create", "Appointment"),
              ("records", "create", "Note"), ("records", "sign", "Note"), ("billing", "read", "Account"),
              ("billing", "create", "Invoice"), ("billing", "create", "Payment")]

    def trail():
        page = ok(stack.call("GET", "/audit/entries", compliance, params={"client_id": client, "limit": 200}))
        found = [e for e in page["entries"] if e["producer"] != "audit"]  # (the officer's own queries are there too)
        return found if all(w in [(e["producer"], e["action"], e["resource_type"]) for e in found] for w in wanted) \
            else None

    entries = wait_until(trail, timeout=30, what="every access in the audit trail")
    seen = [(e["producer"], e["action"], e["resource_type"]) for e in entries]
    positions = [seen.index(w) for w in wanted]
    assert positions == sorted(positions), seen
    times = [e["occurred_at"] for e in entries]
    assert times == sorted(times)
    assert all(e["outcome"] == "allowed" for e in entries if e["producer"] != "audit")
    ok(stack.call("POST", "/audit/checkpoints", compliance))
    verification = ok(stack.call("GET", "/audit/verification", compliance))
    assert verification["ok"] and verification["chains"][0]["entries"] >= len(entries)

    # one request, one trace: the gateway's span, records' RPC span and the audit entry agree
    trace_id = created.headers["X-Trace-Id"]
    note_entry = next(e for e in entries if (e["action"], e["resource_type"]) == ("create", "Note"))
    assert note_entry["trace_id"] == trace_id
    names = wait_until(lambda: {s.name for s in spans.get_finished_spans()
                                if format(s.context.trace_id, "032x") == trace_id} or None, what="the spans")
    assert any(n.startswith("records.create_note") for n in names), names
    assert len(names) >= 3, names

    # the confide command over the same stack
    from confide_client.cli import main

    monkeypatch.setenv("CONFIDE_URL", stack.base)
    monkeypatch.setenv("CONFIDE_TOKEN", stack.token(random_id("sup"), "admin", sites=(site,)))
    capsys.readouterr()
    assert main(["licensure", "matrix", "--clinician", dr, "--jurisdiction", "US-NY", "--jurisdiction", "US-CA"]) == 0
    header, row = capsys.readouterr().out.splitlines()[:2]
    assert header.split() == ["CLINICIAN_ID", "US-NY", "US-CA"] and row.split() == [dr, "yes", "no"]
    assert main(["licensure", "expiring", "--within-days", "500"]) == 0
    assert dr in capsys.readouterr().out
    assert main(["appointments", "--clinician", dr, "--days", "2", "--json"]) == 0  # (today or tomorrow in NY)
    sheet = json.loads(capsys.readouterr().out)["appointments"]
    assert [(a["id"], [c["name"] for c in a["clients"]]) for a in sheet] == [(booked["id"], ["Robin Hale"])]
    assert main(["appointments", "--days", "2"]) == 0  # the caller's sites, local times and names
    header, row = capsys.readouterr().out.splitlines()[:2]
    assert header.split()[:3] == ["DATE", "TIME", "SITE"] and "Robin Hale" in row and sheet[0]["starts"] in row
    assert main(["clients", "find", "robn hale"]) == 0  # a typo, and no accents needed
    assert client in capsys.readouterr().out
