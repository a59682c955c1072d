"""The console's sign-in: the gateway as an OpenID Connect relying party of the
clinic's identity provider (Authlib's OAuth2Session: the authorization code
with PKCE, the issuer's discovery document), and the browser session that
follows.

- A sign-in keeps its PKCE verifier and nonce server-side, found by a digest of
  the ``state`` it sent, for ten minutes and once.
- The ID token is checked (signature by the issuer's keys, issuer, audience =
  the console's client, nonce, time); the access token is the gateway's own
  kind (RFC 9068, checked by :class:`~confide_gateway.auth.Trust` as any other).
- The session is a random cookie (``HttpOnly``, ``SameSite=Lax``, ``Secure``
  over https, ``Path=/``); the database keeps its digest and the provider's
  tokens sealed by Vault transit (``console-sessions``): no token reaches the
  page. A request that changes anything carries the session's CSRF token in
  ``X-CSRF-Token`` (or a form's ``csrf`` field).
- The access token is refreshed with the refresh token when it has expired; a
  session ends when the refresh does not work, at sign-out, or after
  ``SESSION_HOURS`` (a working day).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import jwt
import orjson
import requests
from authlib.integrations.requests_client import OAuth2Session

from confide_gateway import store
from confide_gateway.auth import NotAuthenticated

COOKIE = "confide_session"
SESSION_HOURS = 12
SCOPE = "openid profile offline_access"
SEALING_KEY = "console-sessions"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInFailed(Exception):
    """The provider's answer, or the browser's return, is not one we accept (``why`` for our logs)."""

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(why)


class CsrfRefused(Exception):
    """A change asked through a session cookie without the session's CSRF token."""


def _same(sent: str | None, kept: str) -> bool:
    """The CSRF token sent is the session's (compared in constant time)."""
    return bool(sent) and secrets.compare_digest(sent, kept)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class RelyingParty:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    audience: str
    _meta: dict[str, Any] | None = field(default=None, repr=False)
    _keys: jwt.PyJWKClient | None = field(default=None, repr=False)

    def metadata(self) -> dict[str, Any]:
        if self._meta is None:
            try:
                answer = requests.get(f"{self.issuer.rstrip('/')}/.well-known/openid-configuration", timeout=10)
                answer.raise_for_status()
            except requests.RequestException as exc:
                raise SignInFailed(f"the identity provider's configuration: {exc}") from None
            self._meta = answer.json()
            self._keys = jwt.PyJWKClient(self._meta["jwks_uri"], cache_keys=True)
        return self._meta

    def _client(self) -> OAuth2Session:
        return OAuth2Session(self.client_id, self.client_secret, scope=SCOPE, redirect_uri=self.redirect_uri,
                             code_challenge_method="S256")

    def begin(self) -> tuple[str, str, str, str]:
        """(the provider's address to send the browser to, state, verifier, nonce)."""
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(24)
        url, state = self._client().create_authorization_url(
            self.metadata()["authorization_endpoint"], code_verifier=verifier, nonce=nonce, resource=self.audience)
        return url, state, verifier, nonce

    def finish(self, code: str, verifier: str, nonce: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The provider's tokens for ``code``, and the ID token's claims, checked."""
        meta = self.metadata()
        try:
            token = dict(self._client().fetch_token(meta["token_endpoint"], grant_type="authorization_code",
                                                    code=code, code_verifier=verifier, resource=self.audience))
            key = self._keys.get_signing_key_from_jwt(token["id_token"])
            claims = jwt.decode(token["id_token"], key.key, algorithms=["RS256", "ES256", "EdDSA"],
                                audience=self.client_id, issuer=self.issuer, leeway=30,
                                options={"require": ["exp", "iat", "sub", "iss", "aud", "nonce"]})
        except Exception as exc:  # noqa: BLE001 - whatever breaks here, no session is made
            raise SignInFailed(f"{type(exc).__name__}: {exc}") from None
        if not secrets.compare_digest(str(claims.get("nonce")), nonce):
            raise SignInFailed("the ID token's nonce is not this sign-in's")
        return token, claims

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        try:
            # (no scope asked: the refresh keeps what was granted)
            client = OAuth2Session(self.client_id, self.client_secret)
            return dict(client.refresh_token(self.metadata()["token_endpoint"], refresh_token=refresh_token,
                                             resource=self.audience))
        except Exception as exc:  # noqa: BLE001 - a refresh that fails ends the session
            raise NotAuthenticated(f"refresh failed: {type(exc).__name__}: {exc}") from None

    def end_session_url(self, id_token: str, after: str) -> str | None:
        endpoint = self.metadata().get("end_session_endpoint")
        return endpoint and f"{endpoint}?{urlencode({'id_token_hint': id_token, 'post_logout_redirect_uri': after})}"


@dataclass
class Sessions:
    """Browser sessions in the gateway's database, their tokens sealed with Vault transit."""

    rp: RelyingParty
    db: Any  # confide_persistence.Database-like: .transaction()
    transit: Any
    secure: bool

    def _seal(self, token: dict[str, Any]) -> str:
        kept = {k: token.get(k) for k in ("access_token", "refresh_token", "id_token")}
        return self.transit.encrypt(SEALING_KEY, orjson.dumps(kept))

    def _open(self, sealed: str) -> dict[str, Any]:
        return orjson.loads(self.transit.decrypt(SEALING_KEY, sealed))

    def begin(self, return_to: str) -> str:
        url, state, verifier, nonce = self.rp.begin()
        with self.db.transaction() as session:
            store.save_login(session, digest(state), verifier, nonce, return_to)
        return url

    def finish(self, state: str, code: str, check) -> tuple[str, str]:
        """A new session for the browser that returns with ``state`` and ``code``: (cookie, where to go).
        ``check(access_token)`` gives the person's roles (the gateway's own token check)."""
        with self.db.transaction() as session:
            pending = store.take_login(session, digest(state))
        if pending is None:
            raise SignInFailed("no sign-in under way with this state (expired, used, or never begun)")
        token, claims = self.rp.finish(code, pending.verifier, pending.nonce)
        held = check(token["access_token"])
        cookie, now = secrets.token_urlsafe(32), datetime.now(UTC)
        with self.db.transaction() as session:
            store.add_session(session, digest(cookie), subject=claims["sub"], name=claims.get("name"),
                              roles=held, role=next(iter(held)) if len(held) == 1 else None,
                              csrf=secrets.token_urlsafe(32), tokens=self._seal(token),
                              access_expires_at=now + timedelta(seconds=int(token.get("expires_in", 300))),
                              expires_at=now + timedelta(hours=SESSION_HOURS))
        return cookie, pending.return_to

    def current(self, cookie: str | None):
        """The browser's session, if it has one that has not ended."""
        if not cookie:
            return None
        with self.db.transaction() as session:
            return store.console_session(session, digest(cookie))

    def bearer(self, cookie: str, method: str, csrf: str | None, site: str | None = None) -> tuple[str, str | None]:
        """The Authorization value for a request made with this session (the access token, refreshed if it
        has expired), and the role it acts as; a change without the CSRF token is :class:`CsrfRefused`, and
        so is any request a browser says another site made (``Sec-Fetch-Site``: a read is an access too).
        A session whose token can no longer be had is ended."""
        try:
            if site in ("cross-site", "same-site"):
                raise CsrfRefused()
            return self._bearer(cookie, method, csrf)
        except NotAuthenticated:
            with self.db.transaction() as session:
                store.end_session(session, digest(cookie))
            raise

    def _bearer(self, cookie: str, method: str, csrf: str | None) -> tuple[str, str | None]:
        with self.db.transaction() as session:
            row = store.console_session(session, digest(cookie), lock=True)
            if row is None:
                raise NotAuthenticated("no such session (signed out, expired, or never made)")
            if method not in SAFE_METHODS and not _same(csrf, row.csrf):
                raise CsrfRefused()
            tokens = self._open(row.tokens)
            if row.access_expires_at <= datetime.now(UTC) + timedelta(seconds=30):
                if not tokens.get("refresh_token"):
                    raise NotAuthenticated("the session's access token expired and it has no refresh token")
                fresh = self.rp.refresh(tokens["refresh_token"])
                tokens = {**tokens, **{k: v for k, v in fresh.items() if k in tokens and v}}
                store.change_session(session, digest(cookie), tokens=self._seal(tokens),
                                     access_expires_at=datetime.now(UTC) + timedelta(
                                         seconds=int(fresh.get("expires_in", 300))))
        return f"Bearer {tokens['access_token']}", row.role

    def choose(self, cookie: str, role: str, csrf: str | None) -> None:
        with self.db.transaction() as session:
            row = store.console_session(session, digest(cookie), lock=True)
            if row is None:
                raise NotAuthenticated("no such session")
            if not _same(csrf, row.csrf):
                raise CsrfRefused()
            if role not in row.roles:
                raise SignInFailed(f"role {role[:40]!r} is not one the person holds")
            store.change_session(session, digest(cookie), role=role)

    def end(self, cookie: str, csrf: str | None) -> str | None:
        """Sign out: the session gone; where the provider signs the person out too (or None)."""
        with self.db.transaction() as session:
            row = store.console_session(session, digest(cookie), lock=True)
            if row is None:
                return None
            if not _same(csrf, row.csrf):
                raise CsrfRefused()
            store.end_session(session, digest(cookie))
        return self._open(row.tokens).get("id_token")

    def cookie_header(self, value: str, max_age: int = SESSION_HOURS * 3600) -> str:
        flags = f"{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}"
        return flags + ("; Secure" if self.secure else "")
