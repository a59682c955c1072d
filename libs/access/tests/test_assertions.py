"""Caller assertions against a real OpenBao: who may vouch for whom, for which
service, for how long -- and every way of faking one."""

from __future__ import annotations

import base64
import time

import jwt
import orjson
import pytest
from confide_access.assertions import (
    GATEWAY,
    TYPE,
    CallerRefused,
    CallerSigner,
    CallerVerifier,
    audience_for,
    may_assert,
)
from confide_testing import caller
from confide_vault.bootstrap import caller_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


@pytest.fixture
def keys(service_transit):
    for identity in ("records", "billing"):
        service_transit.create_key(caller_key(identity), key_type="ed25519")
    return service_transit


@pytest.fixture
def records(keys):
    return CallerVerifier(keys, "records")


def test_the_gateways_assertion_is_believed_by_the_service_it_names(keys, records):
    who = caller("clinician", ("north", "south"), on_behalf_of="dr-lee")
    token = CallerSigner(keys, GATEWAY).sign(who, ["records"], trace="4bf92f3577b34da6a3ce929d0e0e4736")
    verified = records.verify(token)
    assert (verified.user_id, verified.role, verified.sites) == (who["user_id"], "clinician", ("north", "south"))
    assert verified.on_behalf_of == "dr-lee" and not verified.breaking_glass
    assert verified.trace == "4bf92f3577b34da6a3ce929d0e0e4736" and verified.assertion == token


def test_an_assertion_for_another_service_is_refused(keys, records):
    token = CallerSigner(keys, GATEWAY).sign(caller(), ["scheduling"])
    with pytest.raises(CallerRefused, match="not records"):
        records.verify(token)


def test_billing_may_carry_a_callers_assertion_on_to_records_only():
    assert audience_for("billing") == ("billing", "records")
    assert audience_for("records") == ("records",)


def test_an_expired_assertion_is_refused(keys, records):
    past = CallerSigner(keys, GATEWAY, clock=lambda: time.time() - 600)
    with pytest.raises(CallerRefused, match="expired"):
        records.verify(past.sign(caller(), ["records"]))


def test_a_changed_claim_breaks_the_signature(keys, records):
    token = CallerSigner(keys, GATEWAY).sign(caller("front_desk"), ["records"])
    header, claims, signature = token.split(".")
    forged = orjson.loads(base64.urlsafe_b64decode(claims + "=="))
    forged["role"] = "compliance_officer"
    forged_claims = base64.urlsafe_b64encode(orjson.dumps(forged)).rstrip(b"=").decode()
    with pytest.raises(CallerRefused, match="Signature"):
        records.verify(f"{header}.{forged_claims}.{signature}")


def _certificate(identity: str, key: Ed25519PrivateKey, signature: str) -> str:
    public = base64.urlsafe_b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    body = orjson.dumps({"iss": identity, "key": public.rstrip(b"=").decode(), "exp": int(time.time()) + 600})
    return base64.urlsafe_b64encode(body).rstrip(b"=").decode(), body, signature


def _forge(identity: str, certificate: str, key: Ed25519PrivateKey, **claims) -> str:
    now = int(time.time())
    body = {"iss": identity, "sub": "intruder", "aud": ["records"], "iat": now, "exp": now + 60,
            "role": "compliance_officer", **claims}
    return jwt.encode(body, key, algorithm="EdDSA", headers={"typ": TYPE, "crt": certificate})


def test_a_key_of_ones_own_is_not_the_gateways(keys, records):
    """What a broker user could mint: a key pair and a certificate it signed itself."""
    mine = Ed25519PrivateKey.generate()
    b64, body, _ = _certificate(GATEWAY, mine, "")
    self_signed = "vault:v1:" + base64.b64encode(mine.sign(body)).decode()
    with pytest.raises(CallerRefused, match="not signed by caller-gateway"):
        records.verify(_forge(GATEWAY, f"{b64}.{self_signed}", mine))


def test_a_service_cannot_certify_itself_as_the_gateway(keys, records):
    """Records may sign with its own Vault key; a certificate so signed that
    says "gateway" is checked against the gateway's key and fails."""
    mine = Ed25519PrivateKey.generate()
    b64, body, _ = _certificate(GATEWAY, mine, "")
    by_records = keys.sign(caller_key("records"), body)
    with pytest.raises(CallerRefused, match="not signed by caller-gateway"):
        records.verify(_forge(GATEWAY, f"{b64}.{by_records}", mine))


def test_a_service_speaks_only_for_itself(keys, records):
    billing = CallerSigner(keys, "billing")
    for_itself = billing.sign({"user_id": "billing.charges", "role": "system", "purpose": "payment"}, ["records"])
    assert records.verify(for_itself).role == "system"
    with pytest.raises(CallerRefused, match="only for itself"):
        records.verify(billing.sign(caller("compliance_officer"), ["records"]))
    with pytest.raises(CallerRefused, match="only for itself"):
        records.verify(billing.sign({"user_id": "records.x", "role": "system"}, ["records"]))
    with pytest.raises(CallerRefused, match="does not speak for services"):
        records.verify(CallerSigner(keys, GATEWAY).sign({"user_id": "records.x", "role": "system"}, ["records"]))


def test_nobody_vouches_for_an_emergency_or_a_purpose_beyond_the_role(keys, records):
    gateway = CallerSigner(keys, GATEWAY)
    with pytest.raises(CallerRefused, match="break-the-glass"):
        records.verify(gateway.sign(caller(break_glass_reason="patient collapsed in the lobby"), ["records"]))
    with pytest.raises(CallerRefused, match="not disclosure"):
        records.verify(gateway.sign(caller("clinician", purpose="disclosure"), ["records"]))
    with pytest.raises(CallerRefused, match="not treatment"):
        records.verify(gateway.sign(caller("biller", purpose="treatment"), ["records"]))


@pytest.mark.parametrize("token", [None, {"user_id": "u", "role": "clinician"}, "", "a.b.c", 42])
def test_no_assertion_is_refused(records, token):
    with pytest.raises(CallerRefused):
        records.verify(token)


def test_other_algorithms_are_refused(keys, records):
    now = int(time.time())
    claims = {"iss": GATEWAY, "sub": "x", "aud": ["records"], "iat": now, "exp": now + 60, "role": "admin"}
    for token in (jwt.encode(claims, "a-shared-secret-anyone-could-hold-32b", algorithm="HS256", headers={"typ": TYPE}),
                  jwt.encode(claims, None, algorithm="none", headers={"typ": TYPE})):
        with pytest.raises(CallerRefused, match="not a caller assertion"):
            records.verify(token)


def test_the_certificate_is_renewed_before_it_expires(keys, records):
    now = [time.time()]
    signer = CallerSigner(keys, GATEWAY, certificate_lifetime=100, clock=lambda: now[0])
    first = jwt.get_unverified_header(signer.sign(caller(), ["records"]))["crt"]
    now[0] += 49
    assert jwt.get_unverified_header(signer.sign(caller(), ["records"]))["crt"] == first
    now[0] += 2
    assert jwt.get_unverified_header(signer.sign(caller(), ["records"]))["crt"] != first


@pytest.mark.unit
def test_who_may_assert_what():
    assert may_assert(GATEWAY, {"sub": "u-1", "role": "clinician"}) is None
    assert may_assert(GATEWAY, {"sub": "scheduling.x", "role": "system"})
    assert may_assert("scheduling", {"sub": "scheduling.licensure", "role": "system"}) is None
    assert may_assert("scheduling", {"sub": "records.x", "role": "system"})
    assert may_assert("scheduling", {"sub": "scheduling.x", "role": "admin"})

