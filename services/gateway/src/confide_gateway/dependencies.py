"""What the gateway's entrypoints are given: the token checker, the caller
signer, and settings read once at start."""

from __future__ import annotations

from confide_access.assertions import GATEWAY, CallerSigner
from confide_client.devtokens import ISSUER as DEV_ISSUER
from nameko import config
from nameko.extensions import DependencyProvider

from confide_gateway.auth import GROUP_PATTERN, MAX_LIFETIME_SECONDS, Authenticator, RoleClaims, check_configuration
from confide_gateway.limits import RateLimiter


class Authentication(DependencyProvider):
    """The token checker, from ``GATEWAY_JWKS`` (a JWKS file or URL),
    ``GATEWAY_ISSUER`` and ``GATEWAY_AUDIENCE``."""

    def setup(self) -> None:
        check_configuration(config["GATEWAY_JWKS"], config["GATEWAY_ISSUER"],
                            development=config.get("ENVIRONMENT") == "development", dev_issuer=DEV_ISSUER)
        self.authenticator = Authenticator(
            config["GATEWAY_JWKS"], config["GATEWAY_ISSUER"], config.get("GATEWAY_AUDIENCE", "confide"),
            max_lifetime=int(config.get("GATEWAY_MAX_TOKEN_SECONDS", MAX_LIFETIME_SECONDS)),
            role_claims=RoleClaims(config.get("GATEWAY_ROLES_CLAIM") or None,
                                   config.get("GATEWAY_ROLES_PATTERN") or GROUP_PATTERN))

    def get_dependency(self, worker_ctx) -> Authenticator:
        return self.authenticator


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
