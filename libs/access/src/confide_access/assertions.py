"""Caller assertions: how a service knows who is calling it.

Behind the gateway, every RPC that acts for someone carries a short-lived,
signed statement of who that is -- user, role, sites, purpose, the request's
trace -- issued for the service it is sent to (its audience). Nothing a broker
user can mint:

- Each identity (the gateway, each service) has an Ed25519 key in Vault transit,
  ``caller-<identity>``, that only it may sign with (its Vault policy) and whose
  public half every identity may read.
- At start an issuer makes a key pair of its own in memory and has Vault sign a
  *certificate* for its public half (who it is, until when). The private key
  never leaves the process; Vault's never leaves Vault; one Vault call an hour.
- An assertion is a JWT (EdDSA) signed with the process key, its certificate in
  the header. A verifier checks the certificate once against Vault's public key
  (then remembers it) and each assertion locally: one Ed25519 verification,
  well under a millisecond (``make bench``).

Who may assert what: the gateway speaks for people (any role but ``system``); a
service speaks only for itself (role ``system``, user ``<service>.<task>``).
Some calls are made onward on the person's behalf (billing reads diagnoses from
records as the biller): the gateway names both services in the audience.
"""

from __future__ import annotations

import base64
import re
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import jwt
import orjson
from confide_vault.bootstrap import caller_key
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from marshmallow import ValidationError

from confide_access.events import Caller, CallerSchema, default_purpose, purpose_refused

_CALLERS = CallerSchema()

GATEWAY = "gateway"
TYPE = "confide-caller+jwt"
LIFETIME_SECONDS = 60  # an assertion is made per call: it need only outlive the call's journey
CERTIFICATE_SECONDS = 3600
LEEWAY_SECONDS = 5
# calls a service makes onward as the person who called it (billing asks records for diagnoses)
ONWARD = {"billing": ("records",)}
CALLER_FIELDS = ("role", "sites", "on_behalf_of", "source_address", "user_agent", "purpose", "break_glass_reason")


key_name = caller_key  # the Vault transit key an identity's certificates are signed with
ISSUER = re.compile(r"[a-z][a-z0-9-]{0,62}")


def audience_for(service: str) -> tuple[str, ...]:
    return (service, *ONWARD.get(service, ()))


class CallerRefused(Exception):
    """The assertion is missing, forged, expired, for another service, or claims
    more than its issuer may; ``claimed`` is who it said it was, for the trail."""

    def __init__(self, why: str, claimed: dict | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.claimed = claimed or {}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def may_assert(issuer: str, claims: dict) -> str | None:
    """Why ``issuer`` may not assert ``claims``, or None if it may. Nobody
    vouches for a break-the-glass reason or a purpose the role may not claim:
    those are set by the service that grants them."""
    role, user = claims.get("role"), str(claims.get("sub", ""))
    if issuer == GATEWAY and role == "system":
        return "the gateway does not speak for services"
    if issuer != GATEWAY and (role != "system" or not user.startswith(f"{issuer}.")):
        return f"{issuer} may speak only for itself"
    if claims.get("break_glass_reason"):
        return "break-the-glass is opened by its own operation, not asserted"
    return purpose_refused(str(role), str(claims.get("purpose") or default_purpose(str(role))))


class CallerSigner:
    """Issues assertions as ``identity`` (``transit`` may sign with its key)."""

    def __init__(self, transit, identity: str, *, lifetime: int = LIFETIME_SECONDS,
                 certificate_lifetime: int = CERTIFICATE_SECONDS, clock=time.time) -> None:
        self.transit = transit
        self.identity = identity
        self.lifetime = lifetime
        self.certificate_lifetime = certificate_lifetime
        self.clock = clock
        self._key: Ed25519PrivateKey | None = None
        self._certificate = ""
        self._renew_at = 0.0

    def _current(self) -> tuple[Ed25519PrivateKey, str]:
        now = self.clock()
        if self._key is None or now >= self._renew_at:  # renewed at half its life, so never presented stale
            key = Ed25519PrivateKey.generate()
            public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            body = orjson.dumps({"iss": self.identity, "key": _b64(public),
                                 "exp": int(now + self.certificate_lifetime)})
            signature = self.transit.sign(key_name(self.identity), body)
            self._key, self._certificate = key, f"{_b64(body)}.{signature}"
            self._renew_at = now + self.certificate_lifetime / 2
        return self._key, self._certificate

    def sign(self, caller: dict | Caller, audience: Iterable[str], trace: str | None = None) -> str:
        """An assertion of ``caller`` (the gateway's caller dict, or a :class:`Caller`)."""
        data = caller_dict(caller)
        key, certificate = self._current()
        now = int(self.clock())
        claims: dict[str, Any] = {"iss": self.identity, "sub": data["user_id"], "aud": list(audience),
                                  "iat": now, "exp": now + self.lifetime}
        claims.update({name: data[name] for name in CALLER_FIELDS if data.get(name) not in (None, [], ())})
        if trace:
            claims["trace"] = trace
        return jwt.encode(claims, key, algorithm="EdDSA", headers={"typ": TYPE, "crt": certificate})


def caller_dict(caller: dict | Caller) -> dict:
    if isinstance(caller, Caller):
        return {"user_id": caller.user_id, **{name: getattr(caller, name) for name in CALLER_FIELDS},
                "sites": list(caller.sites), "purpose": str(caller.purpose)}
    return caller


@dataclass(frozen=True)
class _Certificate:
    issuer: str
    key: Ed25519PublicKey
    expires: int


class CallerVerifier:
    """Checks assertions sent to ``service``; public keys are read from Vault
    transit once per key version."""

    def __init__(self, transit, service: str, *, leeway: int = LEEWAY_SECONDS, clock=time.time,
                 remembered: int = 256) -> None:
        self.transit = transit
        self.service = service
        self.leeway = leeway
        self.clock = clock
        self.remembered = remembered
        self._vault_keys: dict[tuple[str, int], Ed25519PublicKey] = {}
        self._missing: dict[tuple[str, int], float] = {}
        self._certificates: OrderedDict[str, _Certificate] = OrderedDict()
        self._callers: OrderedDict[bytes, Caller] = OrderedDict()

    def verify(self, token: Any) -> Caller:
        """The caller ``token`` asserts, or :class:`CallerRefused`. A compact JWS
        read here directly (PyJWT's generic checks cost more than the signature)."""
        if not isinstance(token, str) or token.count(".") != 2:
            raise CallerRefused("no caller assertion", token if isinstance(token, dict) else None)
        header_b64, claims_b64, signature_b64 = token.split(".")
        try:
            header, claims = orjson.loads(_unb64(header_b64)), orjson.loads(_unb64(claims_b64))
            signature = _unb64(signature_b64)
        except (ValueError, orjson.JSONDecodeError):
            raise CallerRefused("not an assertion") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise CallerRefused("not an assertion")
        if header.get("typ") != TYPE or header.get("alg") != "EdDSA":
            raise CallerRefused("not a caller assertion", claims)
        certificate = self._certificate(header.get("crt"), claims)
        try:
            certificate.key.verify(signature, f"{header_b64}.{claims_b64}".encode())
        except InvalidSignature:
            raise CallerRefused("InvalidSignatureError: Signature verification failed", claims) from None
        self._check_claims(claims, certificate.issuer)
        why = may_assert(certificate.issuer, claims)
        if why:
            raise CallerRefused(why, claims)
        data = {"user_id": claims["sub"], **{name: claims[name] for name in CALLER_FIELDS if name in claims}}
        return replace(self._caller(data, claims), assertion=token, trace=claims.get("trace"))

    def _caller(self, data: dict, claims: dict) -> Caller:
        """``data`` validated by the caller schema; the same person asserted again
        (every request of a session) is not validated again (``make bench NAME=rpc``)."""
        key = orjson.dumps(data)  # (claims are JSON: this cannot fail; the order of fields is fixed above)
        known = self._callers.get(key)
        if known is None:
            try:
                known = _CALLERS.load(data)
            except ValidationError as exc:  # signed but malformed: refused like a forged one
                raise CallerRefused(f"the asserted caller is not valid: {exc.messages}", claims) from None
            self._callers[key] = known
            while len(self._callers) > self.remembered * 16:  # (a person a session: more of them than issuers)
                self._callers.popitem(last=False)
        return known

    def _check_claims(self, claims: dict, issuer: str) -> None:
        now = self.clock()
        missing = [name for name in ("iss", "sub", "aud", "iat", "exp") if name not in claims]
        if missing:
            raise CallerRefused(f"the assertion lacks {', '.join(missing)}", claims)
        audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if self.service not in audience:
            raise CallerRefused(f"InvalidAudienceError: the assertion is for {audience}, not {self.service}", claims)
        if claims["iss"] != issuer:
            raise CallerRefused("the assertion's issuer is not its certificate's", claims)
        iat, exp = claims["iat"], claims["exp"]
        if not isinstance(iat, int | float) or not isinstance(exp, int | float):
            raise CallerRefused("the assertion's times are not numbers", claims)
        if exp + self.leeway < now:
            raise CallerRefused("ExpiredSignatureError: the assertion has expired", claims)
        if iat > now + self.leeway or exp - iat > LIFETIME_SECONDS * 5:
            raise CallerRefused("the assertion's lifetime is not believable", claims)

    def _certificate(self, text: Any, claimed: dict) -> _Certificate:
        known = self._certificates.get(text) if isinstance(text, str) else None
        if known is None:
            known = self._check_certificate(text, claimed)
            self._certificates[text] = known
            while len(self._certificates) > self.remembered:
                self._certificates.popitem(last=False)
        if known.expires + self.leeway < self.clock():
            raise CallerRefused("the issuer's certificate has expired", claimed)
        return known

    def _check_certificate(self, text: Any, claimed: dict) -> _Certificate:
        try:
            body_b64, signature = text.split(".", 1)
            body = _unb64(body_b64)
            fields = orjson.loads(body)
            issuer, version = str(fields["iss"]), int(signature.split(":")[1].removeprefix("v"))
            raw_signature = base64.b64decode(signature.split(":", 2)[2])
        except (AttributeError, ValueError, KeyError, IndexError, TypeError):
            raise CallerRefused("no readable issuer certificate", claimed) from None
        try:
            self._vault_key(issuer, version).verify(raw_signature, body)
        except InvalidSignature:
            raise CallerRefused(f"the certificate is not signed by {key_name(issuer)}", claimed) from None
        return _Certificate(issuer, Ed25519PublicKey.from_public_bytes(_unb64(fields["key"])), int(fields["exp"]))

    def _vault_key(self, issuer: str, version: int) -> Ed25519PublicKey:
        """Vault's public key for ``issuer``'s certificates; a key Vault does not
        have is remembered as missing for a minute, so a flood of made-up issuers
        or versions costs one Vault read each a minute, not one a message."""
        known = self._vault_keys.get((issuer, version))
        if known is not None:
            return known
        if not ISSUER.fullmatch(issuer) or not 0 < version < 10_000:
            raise CallerRefused("no such issuer")
        missing_since = self._missing.get((issuer, version))
        if missing_since is not None and self.clock() - missing_since < 60:
            raise CallerRefused(f"no issuer key {key_name(issuer)} v{version}")
        try:
            raw = self.transit.public_key(key_name(issuer), version)
        except Exception:  # noqa: BLE001 - an unknown issuer is a refusal, whatever Vault says
            if len(self._missing) > self.remembered:
                self._missing.clear()
            self._missing[(issuer, version)] = self.clock()
            raise CallerRefused(f"no issuer key {key_name(issuer)} v{version}") from None
        known = self._vault_keys[(issuer, version)] = Ed25519PublicKey.from_public_bytes(raw)
        return known


class SigningProxy:
    """A nameko cluster proxy that turns the first argument of every call --
    the caller -- into an assertion for the service called:
    ``signing(client, signer).records.get_client(caller, client_id)``."""

    def __init__(self, proxy, signer: CallerSigner, trace=lambda: None) -> None:
        self._proxy, self._signer, self._trace = proxy, signer, trace

    def __getattr__(self, service: str) -> _SigningService:
        return _SigningService(getattr(self._proxy, service), service, self._signer, self._trace)


class _SigningService:
    def __init__(self, proxy, service: str, signer: CallerSigner, trace) -> None:
        self._proxy, self._service, self._signer, self._trace = proxy, service, signer, trace

    def __getattr__(self, method: str) -> _SigningMethod:
        return _SigningMethod(getattr(self._proxy, method), self)


class _SigningMethod:
    def __init__(self, proxy, service: _SigningService) -> None:
        self._proxy, self._service = proxy, service

    def _signed(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        s = self._service
        sign = lambda who: s._signer.sign(who, audience_for(s._service), s._trace())  # noqa: E731
        if args:
            return (sign(args[0]), *args[1:]), kwargs
        if "caller" in kwargs:
            return args, {**kwargs, "caller": sign(kwargs["caller"])}
        return args, kwargs

    def __call__(self, *args, **kwargs):
        args, kwargs = self._signed(args, kwargs)
        return self._proxy(*args, **kwargs)

    def call_async(self, *args, **kwargs):
        args, kwargs = self._signed(args, kwargs)
        return self._proxy.call_async(*args, **kwargs)


def signing(proxy, signer: CallerSigner, trace=lambda: None) -> SigningProxy:
    return SigningProxy(proxy, signer, trace)
