"""OIDC-style bearer tokens: a JWT signed by a key in a JWKS (a file or a URL),
with the expected issuer and audience, unexpired and already valid, clock skew
bounded. Whatever is wrong, the caller learns only that they are not
authenticated."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import jwt

ALGORITHMS = ["EdDSA", "RS256", "ES256"]
LEEWAY_SECONDS = 30


class NotAuthenticated(Exception):
    """No token, or one we do not accept; ``why`` is for our logs only."""

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(why)


@dataclass
class Authenticator:
    jwks_source: str  # a path to a JWKS file, or an https:// URL
    issuer: str
    audience: str
    leeway: int = LEEWAY_SECONDS

    def __post_init__(self) -> None:
        if self.jwks_source.startswith(("http://", "https://")):
            self._client = jwt.PyJWKClient(self.jwks_source, cache_keys=True)
            self._keys = None
        else:
            self._client = None
            self._keys = jwt.PyJWKSet.from_dict(json.loads(Path(self.jwks_source).read_text()))

    def _key(self, token: str):
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._keys.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise NotAuthenticated(f"no key {kid!r} in the JWKS")

    def claims(self, authorization: str | None) -> dict:
        if not authorization or not authorization.startswith("Bearer "):
            raise NotAuthenticated("no bearer token")
        token = authorization.removeprefix("Bearer ").strip()
        try:
            return jwt.decode(token, self._key(token), algorithms=ALGORITHMS, audience=self.audience,
                              issuer=self.issuer, leeway=self.leeway,
                              options={"require": ["exp", "iat", "sub", "iss", "aud"]})
        except NotAuthenticated:
            raise
        except (jwt.PyJWTError, ValueError) as exc:
            raise NotAuthenticated(f"{type(exc).__name__}: {exc}") from None
