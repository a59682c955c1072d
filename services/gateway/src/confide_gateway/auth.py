"""OAuth 2.0 access tokens (RFC 9068, ``typ: at+jwt``): a JWT signed by a key in
a JWKS (a file or an https URL), with the expected issuer and audience,
unexpired, already valid, of a bounded lifetime, naming a role a person may
hold. Whatever is wrong -- an ID token, an algorithm the key does not fit, a
``system`` role -- the caller learns only that they are not authenticated.

The development issuer (``confide token``) and an ``http://`` JWKS are accepted
only where development is declared (``CONFIDE_ENVIRONMENT=development``, as
``make run`` does); anywhere else the gateway refuses to start with them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from confide_access.events import ROLES

ALGORITHMS = ["EdDSA", "RS256", "ES256"]
LEEWAY_SECONDS = 30
ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")
MAX_LIFETIME_SECONDS = 12 * 3600  # a working day; identity providers issue an hour or less
PERSON_ROLES = frozenset(ROLES) - {"system"}  # services speak for themselves, never through a token


class NotAuthenticated(Exception):
    """No token, or one we do not accept; ``why`` is for our logs only."""

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(why)


class UnsafeConfiguration(RuntimeError):
    """A setting that is for development only, outside development."""


def check_configuration(jwks_source: str, issuer: str, development: bool, dev_issuer: str) -> None:
    if development:
        return
    if issuer == dev_issuer:
        raise UnsafeConfiguration(
            f"the gateway trusts the development issuer ({dev_issuer}), whose key sits in a state folder: "
            "set CONFIDE_GATEWAY_ISSUER and CONFIDE_GATEWAY_JWKS to your identity provider's, or declare "
            "CONFIDE_ENVIRONMENT=development on a machine of your own")
    if jwks_source.startswith("http://"):
        raise UnsafeConfiguration(f"the JWKS {jwks_source} is fetched without TLS: use its https:// address")


@dataclass
class Authenticator:
    jwks_source: str  # a path to a JWKS file, or an https:// URL
    issuer: str
    audience: str
    leeway: int = LEEWAY_SECONDS
    token_types: tuple[str, ...] = ACCESS_TOKEN_TYPES
    max_lifetime: int = MAX_LIFETIME_SECONDS
    roles: frozenset[str] = field(default=PERSON_ROLES)

    def __post_init__(self) -> None:
        if self.jwks_source.startswith(("http://", "https://")):
            self._client = jwt.PyJWKClient(self.jwks_source, cache_keys=True)
            self._keys = None
        else:
            self._client = None
            self._keys = jwt.PyJWKSet.from_dict(json.loads(Path(self.jwks_source).read_text()))

    def _key(self, token: str, header: dict):
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token)
        kid = header.get("kid")
        for key in self._keys.keys:
            if kid is None or key.key_id == kid:
                return key
        raise NotAuthenticated(f"no key {kid!r} in the JWKS")

    def claims(self, authorization: str | None) -> dict:
        if not authorization or not authorization.startswith("Bearer "):
            raise NotAuthenticated("no bearer token")
        token = authorization.removeprefix("Bearer ").strip()
        try:
            header = jwt.get_unverified_header(token)
            if str(header.get("typ", "")).lower() not in self.token_types:
                raise NotAuthenticated(f"not an access token (typ {header.get('typ')!r})")
            key = self._key(token, header)
            if key.algorithm_name and key.algorithm_name != header.get("alg"):
                raise NotAuthenticated(f"the token's alg {header.get('alg')!r} is not its key's")
            claims = jwt.decode(token, key.key, algorithms=ALGORITHMS, audience=self.audience,
                                issuer=self.issuer, leeway=self.leeway,
                                options={"require": ["exp", "iat", "sub", "iss", "aud"]})
        except NotAuthenticated:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever breaks on a token is the token's problem: 401
            raise NotAuthenticated(f"{type(exc).__name__}: {exc}") from None
        if claims["exp"] - claims["iat"] > self.max_lifetime:
            raise NotAuthenticated(f"a token valid for {claims['exp'] - claims['iat']} s is longer than "
                                   f"{self.max_lifetime} s")
        if claims.get("role") not in self.roles:
            raise NotAuthenticated(f"role {claims.get('role')!r} is not one a person may hold")
        return claims
