"""Each error class a service raises on purpose, provoked through the gateway on
the real stack: the right status, the problem type, and the field named, carried
as structure from the service to the answer (confide_contracts.errors)."""

from datetime import UTC, date, datetime, timedelta

from confide_testing import random_id, wait_until
from sqlalchemy import text

VERIFIED = {"source": "state board", "result": "verified"}


def problem(answer, status: int, slug: str) -> dict:
    assert answer.status_code == status, (answer.status_code, answer.text)
    assert answer.headers["Content-Type"] == "application/problem+json"
    body = answer.json()
    assert body["type"].endswith(f"/{slug}") and body["status"] == status
    return body


def test_every_error_class_is_its_problem_with_the_field_named(stack):
    site, dr = random_id("north"), random_id("dr")
    admin = stack.token(random_id("admin"), "admin", sites=(site,))
    officer = stack.token(random_id("cred"), "credentialing_officer", sites=(site,))
    desk = stack.token(random_id("desk"), "front_desk", sites=(site,))
    clinician = stack.token(dr, "clinician", sites=(site,))
    biller = stack.token(random_id("biller"), "biller", sites=(site,))
    assert stack.call("POST", "/sites", admin, json={"id": site, "name": "North", "jurisdiction": "US-NY",
                                                     "time_zone": "America/New_York"}).status_code == 201
    assert stack.call("POST", "/clinicians", officer, json={"id": dr, "given_name": "Ana", "family_name": "Ruiz",
                                                            "home_site_id": site}).status_code == 201
    lic = stack.call("POST", f"/clinicians/{dr}/licenses", officer, json={
        "type": "lcsw", "jurisdiction": "US-NY", "number": random_id("L"), "issued_on": "2020-01-01",
        "expires_on": (date.today() + timedelta(days=400)).isoformat()}).json()
    assert stack.call("POST", f"/licenses/{lic['id']}/verification", officer, json=VERIFIED).status_code == 200
    assert stack.call("POST", "/availability", desk, json={
        "clinician_id": dr, "site_id": site, "weekday": (date.today() + timedelta(days=2)).weekday(),
        "starts": "00:00", "ends": "23:59", "valid_from": "2026-01-01"}).status_code == 201

    # InvalidRequest: 400, each bad field named
    bad = problem(stack.call("POST", "/clients", desk, json={"given_name": "Robin", "family_name": "Hale",
                                                             "date_of_birth": "yesterday", "home_site_id": site}),
                  400, "invalid-request")
    assert list(bad["errors"]) == ["date_of_birth"]
    client = stack.call("POST", "/clients", desk, json={
        "given_name": "Robin", "family_name": "Hale", "date_of_birth": "1988-04-02", "home_site_id": site}).json()["id"]
    assert stack.call("POST", f"/clients/{client}/care-team", desk,
                      json={"clinician_id": dr, "role": "primary"}).status_code == 201

    # AccessDenied: 403 (a biller has no business with notes)
    denied = problem(stack.call("GET", f"/clients/{client}/notes", biller), 403, "access-denied")
    assert "detail" in denied and "errors" not in denied

    # NotFound: 404 (a client is another matter: no such client is answered as one not yours, 403)
    problem(stack.call("GET", f"/appointments/{random_uuid()}", desk), 404, "not-found")
    assert problem(stack.call("GET", f"/clients/{random_uuid()}", desk), 403, "access-denied")["detail"] \
        .endswith("that you may see")

    # NotLicensed: 422, the reasons under the clinician's field
    starts = datetime.combine(date.today() + timedelta(days=2), datetime.min.time(), UTC) + timedelta(hours=15)
    session = {"site_id": site, "clinician_id": dr, "client_ids": [client], "kind": "individual",
               "service_kind": "individual_psychotherapy", "modality": "telehealth", "planned_minutes": 50,
               "starts_at": starts.isoformat()}
    booked = wait_until(lambda: (a := stack.call("POST", "/appointments", desk, json={
        **session, "client_jurisdiction": "US-NY"})).status_code == 201 and a.json(), timeout=30,
        what="scheduling to learn of the licence")
    unlicensed = problem(stack.call("POST", "/appointments", desk, json={
        **session, "client_jurisdiction": "US-CA", "starts_at": (starts + timedelta(hours=2)).isoformat()}),
        422, "not-licensed")
    assert "clinician_id" in unlicensed["errors"] and any("US-CA" in m for m in unlicensed["errors"]["clinician_id"])

    # BookingConflict: 409, naming who or what collides
    taken = problem(stack.call("POST", "/appointments", desk, json={**session, "client_jurisdiction": "US-NY"}),
                    409, "conflict")
    assert set(taken["errors"]) & {"clinician_id", "client_ids", "starts_at"}

    # RecordIntegrityError: 500 with a trace id to quote, nothing of the record
    note = stack.call("POST", "/notes", clinician, json={
        "kind": "progress", "session_kind": "individual", "appointment_id": booked["id"],
        "service_date": date.today().isoformat(), "site_id": site, "client_ids": [client],
        "sections": [{"body": "the session"}, {"client_id": client, "body": "Robin's own"}]}).json()
    assert stack.call("POST", f"/notes/{note['id']}/signature", clinician).status_code == 200
    with stack.engines["records"].begin() as conn:  # swap the two sections' ciphertexts
        conn.execute(text("UPDATE note_sections s SET body_ciphertext = (SELECT o.body_ciphertext FROM note_sections o "
                          "WHERE o.note_id = s.note_id AND o.id <> s.id) WHERE s.note_id = :id"), {"id": note["id"]})
    broken = stack.call("GET", f"/clients/{client}/notes/{note['id']}", clinician)
    body = problem(broken, 500, "record-integrity")
    assert set(body) <= {"type", "title", "status", "trace_id"}  # no detail, no errors


def random_uuid() -> str:
    import uuid

    return str(uuid.uuid4())
