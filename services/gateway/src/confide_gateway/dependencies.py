"""What the gateway's entrypoints are given: the token checker, the caller
signer, and settings read once at start."""

from __future__ import annotations

import json

from confide_access.assertions import GATEWAY, CallerSigner
from confide_client.devtokens import ISSUER as DEV_ISSUER
from nameko import config
from nameko.extensions import DependencyProvider

from confide_gateway.auth import (
    GROUP_PATTERN,
    MAX_LIFETIME_SECONDS,
    Authenticator,
    RoleClaims,
    Trust,
    UnsafeConfiguration,
    check_configuration,
)
from confide_gateway.limits import RateLimiter


class Authentication(DependencyProvider):
    """The token checker: the issuer of ``GATEWAY_JWKS`` (a JWKS file or URL),
    ``GATEWAY_ISSUER``, ``GATEWAY_AUDIENCE`` and ``GATEWAY_ROLES_CLAIM`` /
    ``_PATTERN``, and any more in ``GATEWAY_TRUST`` (a JSON list of objects with
    the keys ``issuer``, ``jwks``, ``audience``, ``roles_claim``, ``roles_pattern``)."""

    def setup(self) -> None:
        development = config.get("ENVIRONMENT") == "development"
        lifetime = int(config.get("GATEWAY_MAX_TOKEN_SECONDS", MAX_LIFETIME_SECONDS))
        entries = [{"issuer": config["GATEWAY_ISSUER"], "jwks": config["GATEWAY_JWKS"],
                    "audience": config.get("GATEWAY_AUDIENCE", "confide"),
                    "roles_claim": config.get("GATEWAY_ROLES_CLAIM"),
                    "roles_pattern": config.get("GATEWAY_ROLES_PATTERN")}]
        entries += trusted_issuers(config.get("GATEWAY_TRUST") or [])
        issuers = {}
        for entry in entries:
            check_configuration(entry["jwks"], entry["issuer"], development=development, dev_issuer=DEV_ISSUER)
            issuers[entry["issuer"]] = Authenticator(
                entry["jwks"], entry["issuer"], entry.get("audience") or "confide", max_lifetime=lifetime,
                role_claims=RoleClaims(entry.get("roles_claim") or None, entry.get("roles_pattern") or GROUP_PATTERN))
        self.trust = Trust(issuers)

    def get_dependency(self, worker_ctx) -> Trust:
        return self.trust


def trusted_issuers(setting) -> list[dict]:
    """``GATEWAY_TRUST`` read, or an error that says what is wrong with it."""
    try:
        entries = json.loads(setting) if isinstance(setting, str) else setting
    except ValueError as exc:
        raise UnsafeConfiguration(f"CONFIDE_GATEWAY_TRUST is not JSON: {exc}") from None
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("issuer"), str) and isinstance(e.get("jwks"), str)
            for e in entries):
        raise UnsafeConfiguration("CONFIDE_GATEWAY_TRUST is a JSON list of objects, each with an \"issuer\" and a "
                                  "\"jwks\" (and, if need be, \"audience\", \"roles_claim\", \"roles_pattern\")")
    return entries


class ConsoleSessions(DependencyProvider):
    """The console's sign-in (``signin.Sessions``), when ``CONSOLE_ISSUER`` names the identity provider
    (with ``CONSOLE_CLIENT_ID``, ``CONSOLE_CLIENT_SECRET``, ``CONSOLE_URL`` -- the console's own address --
    and ``CONSOLE_AUDIENCE``, the gateway's resource indicator there); None without it."""

    def setup(self) -> None:
        self.sessions = None
        if not config.get("CONSOLE_ISSUER"):
            return
        from confide_vault import Transit

        from confide_gateway.signin import RelyingParty, Sessions

        base = config["CONSOLE_URL"].rstrip("/")
        if not base.startswith("https://") and config.get("ENVIRONMENT") != "development":
            raise UnsafeConfiguration(f"the console at {base} would send its session cookie without TLS: "
                                      "set CONSOLE_URL to its https:// address")
        rp = RelyingParty(config["CONSOLE_ISSUER"], config.get("CONSOLE_CLIENT_ID", "confide-console"),
                          config["CONSOLE_CLIENT_SECRET"], f"{base}/auth/callback",
                          config.get("CONSOLE_AUDIENCE", "urn:confide:gateway"))
        self.sessions = Sessions(rp, None, Transit(config["VAULT"], config.get("TRANSIT_MOUNT", "transit")),
                                 secure=base.startswith("https://"))

    def get_dependency(self, worker_ctx):
        return self.sessions


class CallerSigning(DependencyProvider):
    """What vouches for the caller on every call behind the gateway: an assertion
    signed by a key Vault certifies as the gateway's (``confide_access.assertions``)."""

    def setup(self) -> None:
        from confide_vault import Transit

        self.signer = CallerSigner(Transit(config["VAULT"], config.get("TRANSIT_MOUNT", "transit")), GATEWAY)

    def get_dependency(self, worker_ctx) -> CallerSigner:
        return self.signer


class Settings(DependencyProvider):
    """Read once at start: the Vault client ``confide-serve`` logged in with and
    how long ``/readyz`` waits for each service; how long a call may take
    (``GATEWAY_RPC_TIMEOUT``, then 504); which proxies' ``X-Forwarded-For`` to
    believe; each user's request rate."""

    def setup(self) -> None:
        self.values = {
            "vault": config.get("VAULT"), "timeout": float(config.get("GATEWAY_READY_TIMEOUT", 3)),
            "rpc_timeout": float(config.get("GATEWAY_RPC_TIMEOUT", 30)),
            "ready_cache": float(config.get("GATEWAY_READY_CACHE", 5)),
            "idempotency_hours": float(config.get("GATEWAY_IDEMPOTENCY_HOURS", 24)),
            "trusted_proxies": frozenset(p.strip() for p in str(config.get("GATEWAY_TRUSTED_PROXIES", "")).split(",")
                                         if p.strip()),
            # checkpoints and hash tiles without a token (GATEWAY_PUBLIC_TRANSPARENCY): hashes only, no entry
            "public_transparency": str(config.get("GATEWAY_PUBLIC_TRANSPARENCY", "")).lower() in ("1", "true", "yes"),
            "limiter": RateLimiter(float(config.get("GATEWAY_RATE_PER_SECOND", 20)),
                                   float(config.get("GATEWAY_RATE_BURST", 100))),
        }

    def get_dependency(self, worker_ctx) -> dict:
        return self.values
