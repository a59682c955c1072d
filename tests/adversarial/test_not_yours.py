"""Whether a client exists must not be learnt by asking for one: "not found"
and "not yours" are the same answer (status, type, words)."""

from __future__ import annotations

import uuid

CLIENT = {"given_name": "Robin", "family_name": "Hale", "date_of_birth": "1988-04-02", "home_site_id": "north"}


def _answer(response, client_id: str) -> tuple:
    body = response.json()
    return response.status_code, body.get("type"), body.get("title"), body.get("detail", "").replace(client_id, "…")


def test_not_found_and_not_yours_answer_alike(gateway_with):
    gw = gateway_with("records", "audit")
    robin = gw.call("POST", "/api/v1/clients", gw.token("front_desk"), json=CLIENT).json()["id"]
    nobody = str(uuid.uuid4())
    for role, path in (("front_desk", "/api/v1/clients/{}"), ("clinician", "/api/v1/clients/{}/notes"),
                       ("clinician", "/api/v1/clients/{}/diagnoses"), ("biller", "/api/v1/clients/{}")):
        stranger = gw.token(role, sites=("south",))
        theirs, missing = (gw.call("GET", path.format(c), stranger) for c in (robin, nobody))
        assert _answer(theirs, robin) == _answer(missing, nobody), (role, path, theirs.text, missing.text)
        assert theirs.status_code in (403, 404)
