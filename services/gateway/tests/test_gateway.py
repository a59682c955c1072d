"""The gateway end to end, as a client sees it: HTTP with bearer tokens against
the running gateway, records and audit services (real broker, databases and
Vault)."""

import time

import jwt
import pytest
import requests
from confide_client.devtokens import AUDIENCE, ISSUER, ensure_issuer, mint
from confide_testing import random_id, wait_until
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from stack_support import free_port


@pytest.fixture
def gateway(running_service, tmp_path):
    """Records, audit and the gateway, each with its production database privileges."""
    running_service("records")
    running_service("audit", AUDIT_PARTITIONS=1, AUDIT_FLUSH_MS=20, AUDIT_LOG_NAME="confide.test/audit")
    _, _, jwks = ensure_issuer(tmp_path)
    port = free_port()
    running_service("gateway", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", GATEWAY_JWKS=str(jwks), GATEWAY_ISSUER=ISSUER,
                    GATEWAY_AUDIENCE=AUDIENCE, GATEWAY_READY_TIMEOUT=0.5,
                    ENVIRONMENT="development")
    session = requests.Session()
    session.base = f"http://127.0.0.1:{port}"
    session.token = lambda user, role, sites=("north",), **kw: mint(tmp_path, user, role, list(sites), **kw)
    yield session
    session.close()


def call(gw, method, path, token=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return gw.request(method, gw.base + path, headers=headers, timeout=30, **kwargs)


CLIENT = {"given_name": "Robin", "family_name": "Hale", "date_of_birth": "1988-04-02", "home_site_id": "north"}


def test_health_and_readiness(gateway):
    assert call(gateway, "GET", "/healthz").json() == {"status": "ok"}

    def running_ones_ready():
        # (as a probe asks again: just started, a first call can take longer than this test's 0.5 s a check)
        ready = call(gateway, "GET", "/readyz")
        checks = ready.json()["checks"]
        running = {checks[name] for name in ("records", "audit", "database", "vault")} == {"ok"}
        return (ready.status_code, checks) if running else None  # (a 503 response is falsy)

    status, checks = wait_until(running_ones_ready, timeout=30, interval=1, what="records, audit, database, Vault")
    assert status == 503 and checks["scheduling"] != "ok"  # credentialing, scheduling, billing: not running here


def test_tokens_that_are_not_accepted_say_nothing_more(gateway):
    stranger = Ed25519PrivateKey.generate()
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "role": "admin", "sites": ["north"], "iat": now,
              "exp": now + 600}
    bad = {
        "none": None,
        "garbage": "not.a.token",
        "other key": jwt.encode(claims, stranger, algorithm="EdDSA"),
        "expired": gateway.token("u", "admin", minutes=1, exp=now - 120),
        "not yet valid": gateway.token("u", "admin", nbf=now + 600),
        "wrong audience": gateway.token("u", "admin", aud="someone-else"),
        "wrong issuer": gateway.token("u", "admin", iss="https://evil.example"),
    }
    for what, token in bad.items():
        answer = call(gateway, "GET", f"/api/v1/clients/{random_id('c')}", token)
        assert answer.status_code == 401, what
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.json() == {"type": "https://confide.local/problems/unauthenticated",
                                 "title": "Not authenticated", "status": 401}, what


def test_create_read_and_the_trail(gateway):
    desk = gateway.token(random_id("fd"), "front_desk")
    created = call(gateway, "POST", "/api/v1/clients", desk, json=CLIENT)
    assert created.status_code == 201
    client = created.json()["id"]
    assert call(gateway, "GET", f"/api/v1/clients/{client}", desk).json()["family_name"] == "Hale"

    nosy = random_id("dr")
    refused = call(gateway, "GET", f"/api/v1/clients/{client}", gateway.token(nosy, "clinician"))
    assert refused.status_code == 403 and refused.json()["title"] == "Not allowed"
    missing = call(gateway, "GET", "/api/v1/clients/01a22222-0000-7000-8000-000000000000", desk)
    assert missing.status_code == 403  # answered as a client not theirs: existence is not learnt by asking

    officer = gateway.token(random_id("co"), "compliance_officer", sites=())
    entries = wait_until(lambda: call(gateway, "GET", "/api/v1/audit/entries", officer,
                                      params={"client_id": client, "producer": "records"}).json()["entries"],
                         what="the trail", timeout=20)
    denied = wait_until(lambda: [e for e in call(gateway, "GET", "/api/v1/audit/entries", officer, params={
        "client_id": client, "outcome": "denied"}).json()["entries"]], what="the denial", timeout=20)
    assert denied[0]["actor_id"] == nosy and denied[0]["source_address"] == "127.0.0.1"
    assert entries[0]["user_agent"].startswith("python-requests")
    first = call(gateway, "GET", "/api/v1/audit/entries", officer, params={"client_id": client, "limit": "1"})
    assert 'rel="next"' in first.headers["Link"]


def test_a_long_header_is_refused_by_name_and_the_trail_keeps_moving(gateway):
    """A 10 kB X-On-Behalf-Of reached the trail's 200-character column: the
    audit batch holding it failed forever while reads went on being served."""
    desk_id = random_id("fd")
    desk = gateway.token(desk_id, "front_desk")
    client = call(gateway, "POST", "/api/v1/clients", desk, json=CLIENT).json()["id"]
    long = call(gateway, "GET", f"/api/v1/clients/{client}", desk, headers={"X-On-Behalf-Of": "x" * 5_000})
    assert long.status_code == 400 and long.json()["errors"] == {"X-On-Behalf-Of": ["at most 200 characters"]}
    # (past 8 kB the web server itself refuses the header line, before any service sees it)
    assert call(gateway, "GET", f"/api/v1/clients/{client}", desk,
                headers={"X-On-Behalf-Of": "x" * 10_000}).status_code == 400
    refused = call(gateway, "GET", f"/api/v1/clients/{client}", desk, headers={"X-Purpose-Of-Use": "y" * 33})
    assert refused.json()["errors"] == {"X-Purpose-Of-Use": ["at most 32 characters"]}
    behalf = call(gateway, "GET", f"/api/v1/clients/{client}", desk, headers={"X-On-Behalf-Of": "z" * 200})
    assert behalf.status_code == 403  # (the desk acts for nobody: no recorded relation)
    officer = gateway.token(random_id("co"), "compliance_officer", sites=())
    entries = wait_until(lambda: [e for e in call(gateway, "GET", "/api/v1/audit/entries", officer, params={
        "actor_id": desk_id, "producer": "records", "outcome": "denied"}).json()["entries"]
        if e["on_behalf_of"] == "z" * 200], what="the refusal on behalf, in the trail", timeout=20)
    assert [e["resource_type"] for e in entries] == ["OnBehalfOf"]


def test_bad_input_is_a_problem_naming_the_field(gateway):
    desk = gateway.token(random_id("fd"), "front_desk")
    answer = call(gateway, "POST", "/api/v1/clients", desk, json={**CLIENT, "date_of_birth": "2999-01-01",
                                                                   "email": "nope"})
    assert answer.status_code == 400
    problem = answer.json()
    assert problem["type"].endswith("/invalid-request")
    assert set(problem["errors"]) == {"date_of_birth", "email"}
    not_json = call(gateway, "POST", "/api/v1/clients", desk, data=b"{oops", headers={
        "Content-Type": "application/json"})
    assert not_json.status_code == 400 and "body" in not_json.json()["errors"]


def test_idempotency_key(gateway):
    desk = gateway.token(random_id("fd"), "front_desk")
    key = {"Idempotency-Key": random_id("k")}
    first = call(gateway, "POST", "/api/v1/clients", desk, json=CLIENT, headers=dict(key))
    again = call(gateway, "POST", "/api/v1/clients", desk, json=CLIENT, headers=dict(key))
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    other = call(gateway, "POST", "/api/v1/clients", desk, json={**CLIENT, "given_name": "Sam"}, headers=dict(key))
    assert other.status_code == 422 and other.json()["type"].endswith("/idempotency-key-reused")


def test_the_confide_command(gateway, monkeypatch, capsys, tmp_path):
    from confide_client.cli import main

    desk = gateway.token(random_id("fd"), "front_desk")
    client = call(gateway, "POST", "/api/v1/clients", desk, json=CLIENT).json()["id"]
    monkeypatch.setenv("CONFIDE_URL", gateway.base)
    monkeypatch.delenv("CONFIDE_TOKEN", raising=False)
    with pytest.raises(SystemExit, match="set CONFIDE_TOKEN"):
        main(["audit", "query", "--client", client])
    monkeypatch.setenv("CONFIDE_TOKEN", gateway.token(random_id("co"), "compliance_officer", sites=()))

    def printed():
        main(["audit", "query", "--client", client])
        out = capsys.readouterr().out
        return out if client in out else None

    out = wait_until(printed, timeout=20, what="the client's entries")
    header = out.splitlines()[0].split()
    assert header[:4] == ["OCCURRED_AT", "ACTOR_ID", "ACTOR_ROLE", "ACTION"]
    assert "front_desk" in out and "create" in out
    with pytest.raises(SystemExit, match="400 The request is not valid: outcome"):
        main(["audit", "query", "--outcome", "maybe"])
    assert main(["audit", "disclosures", "--client", client]) == 0
    assert "0 disclosure(s)" in capsys.readouterr().out
    out_file = tmp_path / "trail.jsonl"
    assert main(["audit", "export", "--format", "jsonl", "--client", client, "-o", str(out_file)]) == 0
    assert client in out_file.read_text() and "wrote" in capsys.readouterr().out
    assert main(["audit", "verify"]) == 0
    assert "chain 0: ok" in capsys.readouterr().out
    monkeypatch.setenv("CONFIDE_URL", "http://127.0.0.1:9")
    assert main(["audit", "query"]) == 2


def test_a_clinical_session_through_the_api(gateway):
    desk = gateway.token(random_id("fd"), "front_desk")
    dr_id = random_id("dr")
    dr = gateway.token(dr_id, "clinician")
    client = call(gateway, "POST", "/api/v1/clients", desk, json=CLIENT).json()["id"]
    assert call(gateway, "POST", f"/api/v1/clients/{client}/care-team", desk,
                json={"clinician_id": dr_id, "role": "primary"}).status_code == 201
    assert call(gateway, "POST", f"/api/v1/clients/{client}/diagnoses", dr, json={"code": "F43.10"}).status_code == 201
    unknown = call(gateway, "POST", f"/api/v1/clients/{client}/diagnoses", dr, json={"code": "F99.9"})
    assert unknown.status_code == 400 and "code" in unknown.json()["errors"]
    consent = call(gateway, "POST", f"/api/v1/clients/{client}/consents", dr, json={
        "kind": "release_of_information", "recipient": "Dr. Lee", "purpose": "coordination", "scope": ["diagnoses"],
        "expires_on": "2027-12-31", "signed_by": "Robin Hale"})
    assert consent.status_code == 201
    note = call(gateway, "POST", "/api/v1/notes", dr, json={
        "kind": "progress", "session_kind": "individual", "appointment_id": "appt-1", "service_date": "2026-11-20",
        "site_id": "north", "client_ids": [client], "sections": [{"body": "Practised grounding."}]}).json()
    assert call(gateway, "POST", f"/api/v1/notes/{note['id']}/signature", dr).json()["status"] == "signed"
    read = call(gateway, "GET", f"/api/v1/clients/{client}/notes/{note['id']}", dr).json()
    assert read["sections"][0]["body"] == "Practised grounding."
    assert [n["id"] for n in call(gateway, "GET", f"/api/v1/clients/{client}/notes", dr).json()] == [note["id"]]
    assert call(gateway, "GET", f"/api/v1/clients/{client}/notes", desk).status_code == 403  # minimum necessary

    on_call = gateway.token(random_id("dr"), "clinician", sites=("south", "north"))  # on call for both
    no_reason = call(gateway, "POST", f"/api/v1/clients/{client}/break-glass", on_call, json={"minutes": 30})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]
    opened = call(gateway, "POST", f"/api/v1/clients/{client}/break-glass", on_call,
                  json={"reason": "Client in crisis at the south site", "minutes": 30})
    assert opened.status_code == 201
    assert call(gateway, "GET", f"/api/v1/clients/{client}/diagnoses", on_call).json()[0]["code"] == "F43.10"
    assert "notes" in call(gateway, "GET", f"/api/v1/clients/{client}/export", dr).json()

    officer = gateway.token(random_id("co"), "compliance_officer", sites=())
    flagged = wait_until(lambda: call(gateway, "GET", "/api/v1/audit/entries", officer, params={
        "client_id": client, "break_glass": "true"}).json()["entries"], what="break-the-glass entries", timeout=20)
    assert {e["break_glass_reason"] for e in flagged} == {"Client in crisis at the south site"}
    assert call(gateway, "GET", f"/api/v1/audit/disclosures/{client}", officer).status_code == 200
    assert call(gateway, "GET", "/api/v1/audit/verification", officer).json()["ok"] is True
    assert call(gateway, "GET", "/api/v1/audit/verification", dr).status_code == 403


def test_exports_stream_and_every_miss_is_a_problem(gateway):
    desk = gateway.token(random_id("fd"), "front_desk")
    client = call(gateway, "POST", "/api/v1/clients", desk, json=CLIENT).json()["id"]
    officer = gateway.token(random_id("co"), "compliance_officer", sites=())
    wait_until(lambda: call(gateway, "GET", "/api/v1/audit/entries", officer,
                            params={"client_id": client}).json()["entries"], timeout=20, what="the entry")
    csv = call(gateway, "GET", "/api/v1/audit/exports", officer, params={"format": "csv", "client_id": client})
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("occurred_at") or "occurred_at" in lines[0]
    assert any(client in line for line in lines[1:])
    fhir = call(gateway, "GET", "/api/v1/audit/exports", officer, params={"format": "fhir", "client_id": client})
    assert fhir.json()["resourceType"] == "Bundle"
    assert call(gateway, "GET", "/api/v1/audit/exports", desk, params={"format": "csv"}).status_code == 403
    assert call(gateway, "GET", "/api/v1/audit/exports", officer, params={"format": "xml"}).json()["errors"] == {
        "format": ["one of csv, jsonl, fhir"]}
    for method, path, status in (("GET", "/api/v1/nowhere", 404), ("DELETE", "/api/v1/clients", 405),
                                 ("GET", "/nowhere/%0A", 404)):
        answer = call(gateway, method, path, officer)
        assert answer.status_code == status, path
        assert answer.headers["Content-Type"] == "application/problem+json", path


def test_the_openapi_document_covers_every_operation(gateway):
    from confide_gateway.routes import OPERATIONS

    document = call(gateway, "GET", "/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    ids = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert {o.operation_id for o in OPERATIONS} | {"audit.export"} == ids
    client = document["paths"]["/api/v1/clients"]["post"]
    body = client["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/records.Client"}
    assert "date_of_birth" in document["components"]["schemas"]["records.Client"]["required"]
