"""OAuth 2.0 access tokens (RFC 9068, ``typ: at+jwt``): a JWT signed by a key in
a JWKS (a file or an https URL), with the expected issuer and audience,
unexpired, already valid, of a bounded lifetime, naming a role a person may
hold. Whatever is wrong -- an ID token, an algorithm the key does not fit, a
``system`` role -- the caller learns only that they are not authenticated.

Who the person is comes from the token's ``role`` and ``sites`` claims (as
``confide token`` mints them), or -- as real identity providers say it -- from a
list claim (Okta's and Keycloak's ``groups``, Keycloak's ``realm_access.roles``,
Entra ID's ``roles``) whose values name a role and, for roles held per site, a
site: ``confide:front_desk:north`` by default (:class:`RoleClaims`). A person
who holds more than one role says which they act as (``X-Confide-Role``).

The development issuer (``confide token``) and an ``http://`` JWKS are accepted
only where development is declared (``CONFIDE_ENVIRONMENT=development``, as
``make run`` does); anywhere else the gateway refuses to start with them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from confide_access.events import ROLES
from confide_contracts.errors import InvalidRequest

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


GROUP_PATTERN = r"^confide:(?P<role>[a-z_]+)(?::(?P<site>[a-z0-9][a-z0-9-]{1,63}))?$"
ROLE_HEADER = "X-Confide-Role"


@dataclass(frozen=True)
class RoleClaims:
    """Where a token says which roles its person holds, at which sites: ``claim``
    is a dotted path to a list of strings (None: the token's own ``role`` and
    ``sites``), each value matched by ``pattern`` with groups ``role`` and
    (optional) ``site``. Values that do not match, or name no role a person may
    hold, are someone else's (a provider's groups serve many applications)."""

    claim: str | None = None
    pattern: str = GROUP_PATTERN

    def held(self, claims: dict[str, Any]) -> dict[str, list[str]]:
        """role -> the sites it is held at ([] for a role held without a site)."""
        if self.claim is None:
            role = claims.get("role")
            return {role: list(claims.get("sites") or [])} if isinstance(role, str) else {}
        values: Any = claims
        for part in self.claim.split("."):
            values = values.get(part) if isinstance(values, dict) else None
        held: dict[str, set[str]] = {}
        for value in values if isinstance(values, list) else []:
            found = re.fullmatch(self.pattern, value) if isinstance(value, str) else None
            if found and found.group("role") in PERSON_ROLES:
                sites = held.setdefault(found.group("role"), set())
                if found.groupdict().get("site"):
                    sites.add(found.group("site"))
        return {role: sorted(sites) for role, sites in held.items()}

    def person(self, claims: dict[str, Any], chosen: str | None) -> tuple[str, list[str]]:
        """(role, sites) the person acts with: their one role, or the one they chose."""
        held = self.held(claims)
        if chosen:
            if chosen not in held:
                raise InvalidRequest({ROLE_HEADER: [f"you do not hold the role {chosen[:40]!r}; you hold: "
                                                    f"{', '.join(sorted(held)) or 'none'}"]})
            return chosen, held[chosen]
        if len(held) > 1:
            raise InvalidRequest({ROLE_HEADER: [f"you hold {', '.join(sorted(held))}: say which you act as"]})
        if not held:
            raise NotAuthenticated(f"no Confide role in the token's {self.claim or 'role'} claim")
        return next(iter(held.items()))


@dataclass
class Authenticator:
    jwks_source: str  # a path to a JWKS file, or an https:// URL
    issuer: str
    audience: str
    leeway: int = LEEWAY_SECONDS
    token_types: tuple[str, ...] = ACCESS_TOKEN_TYPES
    max_lifetime: int = MAX_LIFETIME_SECONDS
    roles: frozenset[str] = field(default=PERSON_ROLES)
    role_claims: RoleClaims = field(default_factory=RoleClaims)

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

    def claims(self, authorization: str | None, chosen_role: str | None = None) -> dict:
        """The token's claims, with the ``role`` and ``sites`` the person acts with. A token we do not
        accept is :class:`NotAuthenticated`; a role to choose (or not held) an ``InvalidRequest``."""
        claims = self.verified(authorization)
        role, sites = self.role_claims.person(claims, chosen_role)
        return {**claims, "role": role, "sites": sites}

    def verified(self, authorization: str | None) -> dict:
        """The token's claims, its signature, issuer, audience, type and lifetime checked."""
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
        if self.role_claims.claim is None and claims.get("role") not in self.roles:
            raise NotAuthenticated(f"role {claims.get('role')!r} is not one a person may hold")
        return claims


@dataclass
class Trust:
    """The issuers the gateway accepts tokens from, each with its own keys,
    audience and way of naming roles: a clinic's identity provider, and in
    development also ``confide token``'s issuer beside the local OpenID provider.
    A token is checked by the issuer it names (``iss``, read before the
    signature is, only to pick the keys); an issuer not listed is refused."""

    issuers: dict[str, Authenticator]

    def claims(self, authorization: str | None, chosen_role: str | None = None) -> dict:
        return self._checker(authorization).claims(authorization, chosen_role)

    def held(self, authorization: str) -> dict[str, list[str]]:
        """The roles (and their sites) a valid token's person holds; none is :class:`NotAuthenticated`."""
        checker = self._checker(authorization)
        held = checker.role_claims.held(checker.verified(authorization))
        if not held:
            raise NotAuthenticated("the token names no Confide role")
        return held

    def _checker(self, authorization: str | None) -> Authenticator:
        if not authorization or not authorization.startswith("Bearer "):
            raise NotAuthenticated("no bearer token")
        try:
            issuer = jwt.decode(authorization.removeprefix("Bearer ").strip(),
                                options={"verify_signature": False}).get("iss")
        except Exception as exc:  # noqa: BLE001 - whatever breaks on a token is the token's problem: 401
            raise NotAuthenticated(f"{type(exc).__name__}: {exc}") from None
        checker = self.issuers.get(issuer) if isinstance(issuer, str) else None
        if checker is None:
            raise NotAuthenticated(f"issuer {str(issuer)[:100]!r} is not trusted")
        return checker
