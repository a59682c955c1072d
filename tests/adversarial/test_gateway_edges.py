"""The gateway's edges, as an attacker with a token of their own (or none) would
push them. Each of these answered differently before: a 500, a token accepted,
a body read whole, a request never refused, a call waiting forever."""

from __future__ import annotations

import time

import jwt
import pytest
from confide_client.devtokens import AUDIENCE, ISSUER, ensure_issuer
from confide_gateway.auth import UnsafeConfiguration, check_configuration
from confide_testing import random_id, wait_until
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT = {"given_name": "Robin", "family_name": "Hale", "date_of_birth": "1988-04-02", "home_site_id": "north"}
HARDENED = ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")


@pytest.fixture
def gw(gateway_with):
    return gateway_with("records", "audit")


def _claims(**extra) -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": random_id("u"), "role": "admin", "sites": ["north"],
            "iat": now, "exp": now + 600, **extra}


def test_a_token_whose_algorithm_does_not_fit_its_key_is_a_401(gw):
    """An RS256 token naming the dev issuer's Ed25519 key once raised TypeError: a 500."""
    _, kid, _ = ensure_issuer(gw.state)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(), rsa_key, algorithm="RS256", headers={"kid": kid, "typ": "at+jwt"})
    answer = gw.call("GET", "/api/v1/audit/entries", token)
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("why, claims, header", [
    ("a service's role", {"role": "system"}, {}),
    ("a role nobody holds", {"role": "superuser"}, {}),
    ("an ID token", {}, {"typ": "JWT"}),
    ("no type at all", {}, {"typ": None}),
    ("valid for two days", {"exp": int(time.time()) + 2 * 86400}, {}),
])
def test_tokens_a_person_should_not_have_are_refused(gw, why, claims, header):
    key, kid, _ = ensure_issuer(gw.state)
    headers = {"kid": kid, "typ": "at+jwt", **header}
    token = jwt.encode(_claims(**claims), key, algorithm="EdDSA", headers={k: v for k, v in headers.items() if v})
    assert gw.call("GET", "/api/v1/clients/00000000-0000-0000-0000-000000000000", token).status_code == 401, why


def test_the_development_issuer_and_plain_http_keys_are_for_development_only(tmp_path):
    _, _, jwks = ensure_issuer(tmp_path)
    with pytest.raises(UnsafeConfiguration, match="development issuer"):
        check_configuration(str(jwks), ISSUER, development=False, dev_issuer=ISSUER)
    with pytest.raises(UnsafeConfiguration, match="without TLS"):
        check_configuration("http://idp.example.org/jwks", "https://idp.example.org/", development=False,
                            dev_issuer=ISSUER)
    check_configuration("https://idp.example.org/jwks", "https://idp.example.org/", development=False,
                        dev_issuer=ISSUER)
    check_configuration(str(jwks), ISSUER, development=True, dev_issuer=ISSUER)


def test_the_gateway_will_not_start_on_the_dev_issuer_outside_development(running_service, tmp_path):
    _, _, jwks = ensure_issuer(tmp_path)
    with pytest.raises(UnsafeConfiguration):
        running_service("gateway", WEB_SERVER_ADDRESS="127.0.0.1:0", GATEWAY_JWKS=str(jwks),
                        GATEWAY_ISSUER=ISSUER, GATEWAY_AUDIENCE=AUDIENCE, ENVIRONMENT="production")


def test_a_body_over_the_limit_is_refused_before_it_is_read(gateway_with):
    gw = gateway_with("records", GATEWAY_MAX_BODY_BYTES=64 * 1024)
    desk = gw.token("front_desk")
    big = {**CLIENT, "given_name": "R" * 100_000}
    answer = gw.call("POST", "/api/v1/clients", desk, json=big)
    assert answer.status_code == 413 and answer.json()["type"].endswith("/too-large")
    chunked = gw.call("POST", "/api/v1/clients", desk, data=iter([b"{" + b" " * 70_000 + b"}"]),
                      headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413
    assert gw.call("POST", "/api/v1/clients", desk, json=CLIENT).status_code == 201


def test_one_user_cannot_flood_the_gateway(gateway_with):
    gw = gateway_with("records", GATEWAY_RATE_PER_SECOND=1, GATEWAY_RATE_BURST=3)
    flooder, other = gw.token("front_desk"), gw.token("front_desk")
    answers = [gw.call("GET", "/api/v1/clients/00000000-0000-0000-0000-000000000000", flooder) for _ in range(5)]
    refused = [a for a in answers if a.status_code == 429]
    assert len(refused) >= 1 and int(refused[0].headers["Retry-After"]) >= 1
    assert refused[0].json()["type"].endswith("/too-many-requests")
    assert gw.call("GET", "/api/v1/clients/00000000-0000-0000-0000-000000000000", other).status_code != 429


def test_a_service_that_does_not_answer_is_a_504_not_a_hang(gateway_with, running_service):
    gw = gateway_with("records", "audit", GATEWAY_RPC_TIMEOUT=1)
    billing = running_service("billing")
    billing.container.stop()  # its queue stays; nobody consumes it
    started = time.monotonic()
    answer = gw.call("GET", "/api/v1/clients/00000000-0000-0000-0000-000000000000/statement", gw.token("biller"))
    assert answer.status_code == 504 and answer.json()["type"].endswith("/timeout")
    assert time.monotonic() - started < 10


def test_every_answer_is_marked_not_to_be_cached_or_sniffed(gw):
    desk = gw.token("front_desk")
    for answer in (gw.call("GET", "/healthz"), gw.call("GET", "/api/v1/clients/x"),
                   gw.call("POST", "/api/v1/clients", desk, json=CLIENT), gw.call("GET", "/nowhere"),
                   gw.call("GET", "/openapi.json")):
        for name, value in HARDENED:
            assert answer.headers.get(name) == value, (answer.request.url, name)


def test_a_caller_cannot_label_a_read_a_disclosure_or_an_emergency(gw):
    """A read labelled "disclosure" once entered the accounting of disclosures;
    a made-up break-the-glass reason entered the break-the-glass report."""
    desk = gw.token("front_desk")
    client = gw.call("POST", "/api/v1/clients", desk, json=CLIENT).json()["id"]
    for header, value in (("X-Purpose-Of-Use", "disclosure"), ("X-Purpose-Of-Use", "emergency"),
                          ("X-Purpose-Of-Use", "treatment"), ("X-Break-Glass-Reason", "just curious, honestly")):
        answer = gw.call("GET", f"/api/v1/clients/{client}", desk, headers={header: value})
        assert answer.status_code == 400 and header in answer.json()["errors"], (header, value)
    officer = gw.token("compliance_officer", sites=())
    reads = wait_until(lambda: gw.call("GET", "/api/v1/audit/entries", officer, params={
        "client_id": client, "producer": "records"}).json()["entries"], what="the client's trail", timeout=20)
    assert all(e["purpose"] not in ("disclosure", "emergency") and not e["break_glass"] for e in reads)


def test_the_client_address_is_believed_only_from_a_trusted_proxy(gateway_with):
    gw = gateway_with("records", "audit", GATEWAY_TRUSTED_PROXIES="10.9.9.9")
    desk = gw.token("front_desk")
    client = gw.call("POST", "/api/v1/clients", desk, json=CLIENT,
                     headers={"X-Forwarded-For": "203.0.113.7"}).json()["id"]
    officer = gw.token("compliance_officer", sites=())
    [created] = wait_until(lambda: gw.call("GET", "/api/v1/audit/entries", officer, params={
        "client_id": client, "action": "create"}).json()["entries"], what="the registration", timeout=20)
    assert created["source_address"] == "127.0.0.1"  # the connection's: 127.0.0.1 is no trusted proxy
